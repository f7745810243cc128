"""Scores of a replay against the log's ground truth: detection AP per detector and tracking
MOTA / IDF1, for the replayed outputs and for the recorded ones side by side, and the planner's
divergence from the recorded plan.

Ground truth is each tick's recorded ``BoxLabels`` (ego frame). As in ``drivestack evaluate-tracking``,
a vehicle that no sensor of the replayed set saw (no lidar return, under 10 % visible in the camera)
is don't-care in that frame.
"""
from __future__ import annotations

import numpy as np

from control.types import Trajectory
from fusion.ego_odometry import map_to_ego
from fusion.tracking_metrics import MotAccumulator
from fusion.types import EgoState, Track
from perception.detections import Detections
from perception.evaluation import evaluate
from perception.frames import BoxLabels
from perception.registry import VISIBILITY

MAX_RANGE_M = 50.0
MATCH_DISTANCE_M = 2.0


class ReplayScorer:
    """``add`` per tick; ``summary()`` gives {"detection": {source: {"replay", "recorded"}},
    "tracking": {"replay", "recorded"}}, None where a side has no such output (a detector only
    replayed, or only recorded)."""

    def __init__(self, detectors: tuple[str, ...]) -> None:
        self.sensors = tuple(dict.fromkeys(VISIBILITY[d] for d in detectors))
        self._pairs: dict[str, dict[str, list]] = {"replay": {d: [] for d in detectors}, "recorded": {}}
        self._mot = {"replay": MotAccumulator(MATCH_DISTANCE_M, MAX_RANGE_M),
                     "recorded": MotAccumulator(MATCH_DISTANCE_M, MAX_RANGE_M)}
        self._has_recorded_tracks = False

    def add(self, labels: BoxLabels | None, ego: EgoState, detections: list[Detections], tracks: tuple[Track, ...],
            recorded_detections: tuple[Detections, ...] | None, recorded_tracks: tuple[Track, ...] | None) -> None:
        if labels is None:  # every sensor dropped this frame: nothing to score against
            return
        for det in detections:
            self._pairs["replay"][det.source].append((det, labels))
        for det in recorded_detections or ():
            if det.source in VISIBILITY:
                self._pairs["recorded"].setdefault(det.source, []).append((det, labels))
        ignore = ~self._seen(labels)
        self._add_tracks(self._mot["replay"], labels, ego, tracks, ignore)
        if recorded_tracks is not None:
            self._has_recorded_tracks = True
            self._add_tracks(self._mot["recorded"], labels, ego, recorded_tracks, ignore)

    def summary(self) -> dict:
        detection = {}
        for source in {**self._pairs["replay"], **self._pairs["recorded"]}:
            new, rec = self._pairs["replay"].get(source), self._pairs["recorded"].get(source)
            detection[source] = {"replay": _ap(new, source) if new is not None else None,
                                 "recorded": _ap(rec, source) if rec is not None else None}
        tracking = {"sensors": "+".join(self.sensors), "replay": _mot(self._mot["replay"]),
                    "recorded": _mot(self._mot["recorded"]) if self._has_recorded_tracks else None}
        return {"detection": detection, "tracking": tracking}

    def _seen(self, labels: BoxLabels) -> np.ndarray:
        seen = np.zeros(len(labels), bool)
        if "lidar" in self.sensors:
            seen |= labels.lidar_points > 0
        if "camera" in self.sensors and labels.visible_fraction.size:
            seen |= labels.visible_fraction.max(axis=1) >= 0.1
        return seen

    @staticmethod
    def _add_tracks(acc: MotAccumulator, labels: BoxLabels, ego: EgoState, tracks: tuple[Track, ...],
                    ignore: np.ndarray) -> None:
        hyp = map_to_ego(ego, np.array([[t.x_m, t.y_m] for t in tracks]))
        acc.add_frame(labels.track_id.tolist(), labels.center_m[:, :2], [t.track_id for t in tracks], hyp,
                      gt_ignore=ignore)


def _ap(pairs: list, source: str) -> dict:
    r = evaluate(pairs, visibility=VISIBILITY[source], max_range_m=MAX_RANGE_M)
    return {"ap": {f"{k:g}": v for k, v in r["ap"].items()}, "n_gt": r["n_gt"], "frames": len(pairs),
            "mean_translation_error_m": r["mean_translation_error_m"]}


def _mot(acc: MotAccumulator) -> dict:
    s = acc.summary()
    return {k: s[k] for k in ("mota", "idf1", "motp_m", "num_switches", "num_false_positives", "num_misses", "num_gt",
                              "num_frames")}


def plan_divergence_m(new: Trajectory, recorded: Trajectory, start_s: float, horizon_s: float,
                      step_s: float = 0.1) -> np.ndarray:
    """L2 distances [m] between the two plans' positions at the same times, every ``step_s`` from
    ``start_s`` over ``horizon_s`` (clipped to the span both plans cover; empty if they share none)."""
    lo = max(start_s, float(new.t_s[0]), float(recorded.t_s[0]))
    hi = min(start_s + horizon_s, float(new.t_s[-1]), float(recorded.t_s[-1]))
    if hi < lo:
        return np.zeros(0)
    t = np.arange(lo, hi + 1e-9, step_s)
    a = np.column_stack([np.interp(t, new.t_s, new.xy_m[:, 0]), np.interp(t, new.t_s, new.xy_m[:, 1])])
    b = np.column_stack([np.interp(t, recorded.t_s, recorded.xy_m[:, 0]),
                         np.interp(t, recorded.t_s, recorded.xy_m[:, 1])])
    return np.linalg.norm(a - b, axis=1)
