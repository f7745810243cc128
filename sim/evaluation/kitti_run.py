"""``drivestack evaluate-tracking --kitti DIR``: run trackers over a KITTI tracking layout and score
them with the project's KITTI/AB3DMOT-convention evaluator (optionally exporting KITTI result files)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from fusion.tracker import with_preset
from perception.lookup import Registry
from sim.evaluation.kitti_baseline import greedy_baseline, run_project_tracker
from sim.evaluation.kitti_data import KittiSequence, load_sequences
from sim.evaluation.kitti_eval import IOU_THRESHOLDS, KittiMotResult, evaluate_kitti, export_kitti, format_table


def _project(preset: str):
    config = with_preset(preset)
    return lambda seq: run_project_tracker(seq, config)


TRACKERS = Registry("tracker", {
    "project": _project,
    "greedy": lambda preset: lambda seq: greedy_baseline(seq.detections),
})
"""``project``: ``fusion.tracker.MultiObjectTracker`` with a preset; ``greedy``: the baseline (constant
position, greedy BEV nearest neighbour, 3 m gate, tracks kept 2 frames)."""


@dataclass(frozen=True)
class KittiRun:
    tracker: str
    preset: str
    results: tuple[KittiMotResult, ...]
    tracking_s: float
    frames: int


def run_kitti(root: Path, trackers: list[str], preset: str = "sensor_frame", detector: str = "pointrcnn_car",
              export: Path | None = None) -> list[KittiRun]:
    """Each tracker over every sequence of ``root``; results at IoU 0.25, 0.5, 0.7."""
    sequences = load_sequences(root, detector)
    runs = []
    for name in trackers:
        track = TRACKERS[name](preset)
        t0 = time.perf_counter()
        outputs = [track(seq) for seq in sequences]
        tracking_s = time.perf_counter() - t0
        if export is not None:
            _export(export / name, sequences, outputs)
        runs.append(KittiRun(name, preset if name == "project" else "-", evaluate_kitti(sequences, outputs),
                             tracking_s, sum(s.n_frames for s in sequences)))
    return runs


def _export(directory: Path, sequences: tuple[KittiSequence, ...], outputs) -> None:
    for seq, out in zip(sequences, outputs):
        export_kitti(directory / "data", seq.name, out)


def format_kitti(runs: list[KittiRun], root: Path) -> str:
    lines = [f"KITTI tracking, Car, {len(IOU_THRESHOLDS)} 3-D IoU thresholds, {runs[0].frames} frames of {root}"]
    for run in runs:
        title = (f"{run.tracker}" + (f" (preset {run.preset})" if run.preset != "-" else "")
                 + f": {1000.0 * run.tracking_s / run.frames:.2f} ms per frame")
        lines.append(format_table(run.results, title))
    return "\n".join(lines)
