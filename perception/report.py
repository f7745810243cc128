"""Run a detector over a data-set split and score it (used by ``drivestack evaluate-perception``)."""
from __future__ import annotations

import statistics
import time
from pathlib import Path

from tqdm import tqdm

from perception.dataset import load_frame, read_manifest
from perception.evaluation import evaluate
from perception.registry import VISIBILITY, make_detector


def evaluate_model(model: str, data: Path, split: str, max_frames: int | None = None, ground_truth: str = "auto",
                   **options) -> dict:
    """``options`` go to the detector (``weights``, ``runtime``, ``precision``)."""
    detector = make_detector(model, **options)
    rows = [f for f in read_manifest(data)["frames"] if f["split"] == split][:max_frames]
    if not rows:
        raise ValueError(f"no '{split}' frames in {data}")
    pairs, latency = [], []
    for row in tqdm(rows, desc=f"evaluate {model}", unit="frame", dynamic_ncols=True):
        frame = load_frame(Path(data) / row["path"])
        t0 = time.perf_counter()
        det = detector.detect(frame)
        latency.append(1000.0 * (time.perf_counter() - t0))
        pairs.append((det, frame.labels))
    result = evaluate(pairs, VISIBILITY.get(model, "any") if ground_truth == "auto" else ground_truth)
    return {**result, "model": model, "split": split, "frames": len(rows), "latency_ms_median": statistics.median(latency),
            "runtime": getattr(detector, "runtime", None), "precision": getattr(detector, "precision", None)}


def format_report(r: dict) -> str:
    thr = list(r["ap"])
    head = f"{'':<12}" + "".join(f"AP@{t:g}m".rjust(9) for t in thr)
    run = f", {r['runtime']} {r['precision']}" if r.get("runtime") else ""
    lines = [f"{r['model']}{run} on {r['frames']} '{r['split']}' frames (ground truth: {r['visibility']}-visible)", head,
             f"{'< ' + str(int(r['max_range_m'])) + ' m':<12}" + "".join(f"{r['ap'][t]:9.3f}" for t in thr)]
    lines += [f"{k:<12}" + "".join(f"{v[t]:9.3f}" for t in thr) for k, v in r["ap_by_range"].items()]
    lines.append(f"TP errors @2 m: translation {r['mean_translation_error_m']:.2f} m, size {r['mean_size_error_m']:.2f} m, "
                 f"yaw {r['mean_yaw_error_rad']:.2f} rad; latency median {r['latency_ms_median']:.1f} ms/frame")
    return "\n".join(lines)
