"""Detector latency (batch 1, median over frames) and throughput at a larger batch."""
from __future__ import annotations

import platform
import statistics
import time
from pathlib import Path

import torch

from perception.dataset import load_frame, read_manifest
from perception.registry import make_detector


def bench_detector(model: str, data: Path, weights: Path | None, device: str, batch: int, frames: int, threads: int,
                   bf16: bool | None, repeats: int = 3, runtime: str = "torch", precision: str = "fp32") -> dict:
    """``model`` is ``lidar`` or ``camera``; ``weights`` None means the shipped ones. Latency: the
    median over ``repeats`` passes of each pass's median per-frame time."""
    torch.set_num_threads(threads)
    rows = read_manifest(data)["frames"][:frames]
    loaded = [load_frame(Path(data) / r["path"]) for r in rows]
    det = make_detector(model, **({"weights": weights} if weights else {}), device=device, bf16=bf16, runtime=runtime,
                        precision=precision)
    for f in loaded[:3]:
        det.detect(f)
    runs = []
    for _ in range(repeats):
        lat = []
        for f in loaded:
            t0 = time.perf_counter()
            det.detect(f)
            _sync(det.device)
            lat.append(1000.0 * (time.perf_counter() - t0))
        runs.append(statistics.median(lat))
    chunks = [loaded[i:i + batch] for i in range(0, len(loaded) - batch + 1, batch)] or [loaded]
    t0 = time.perf_counter()
    for chunk in chunks:
        det.detect_batch(chunk)
    _sync(det.device)
    fps = sum(len(c) for c in chunks) / (time.perf_counter() - t0)
    return {"model": model, "device": str(det.device), "bf16": det.bf16, "runtime": det.runtime,
            "precision": det.precision, "threads": threads, "frames": len(loaded),
            "latency_ms_median": statistics.median(runs), "latency_ms_runs": runs, "batch": batch, "frames_per_s": fps,
            "machine": f"{platform.machine()}, torch {torch.__version__}"}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()
