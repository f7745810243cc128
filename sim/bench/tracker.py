"""Tracker cost per tick (``drivestack bench-tracker``): a synthetic multi-lane scene with N vehicles
around a moving ego, detected every tick by a lidar (all around, 0.15 m noise, 5 % misses) and a
front camera (90 degrees, long along the ray, 15 % misses, some clutter); the tracker's update and
output are timed, median over repeats."""
from __future__ import annotations

import time

import numpy as np

from fusion.tracker import MultiObjectTracker, TrackerConfig
from fusion.types import EgoState
from perception.detections import Detections, ray_covariance
from sim.bench.timing import machine_info, medians


def _scene(rng: np.random.Generator, vehicles: int) -> tuple[np.ndarray, np.ndarray]:
    """Initial positions (N, 2) [m] relative to the ego and speeds (N,) [m/s] on 5 lanes 4 m apart."""
    lane = rng.integers(0, 5, vehicles)
    x = rng.uniform(-60.0, 60.0, vehicles)
    order = np.argsort(lane * 1000 + x)  # spread cars along each lane so none overlap
    x[order] = np.concatenate([np.linspace(-60.0, 60.0, int(np.sum(lane == k))) for k in range(5)])
    return np.column_stack([x, 4.0 * lane - 8.0]), rng.uniform(23.0, 27.0, vehicles)


def _detect(rng, rel: np.ndarray, stamp: float, source: str) -> Detections:
    n = len(rel)
    rng_m = np.hypot(rel[:, 0], rel[:, 1])
    az = np.arctan2(rel[:, 1], rel[:, 0])
    if source == "lidar":
        keep = (rng.random(n) > 0.05) & (rng_m < 70.0)
        cov = ray_covariance(az, np.full(n, 0.15), np.full(n, 0.15))
    else:
        keep = (rng.random(n) > 0.15) & (np.abs(az) < np.pi / 4) & (rng_m < 60.0)
        cov = ray_covariance(az, 0.05 * rng_m + 0.3, 0.07 * rng_m / 10 + 0.05)
    centre = rel[keep] + rng.normal(0.0, 0.15, (int(keep.sum()), 2))
    k = len(centre)
    return Detections(stamp, source, np.column_stack([centre, np.full(k, 0.8)]), np.tile([4.5, 1.9, 1.6], (k, 1)),
                      rng.normal(0.0, 0.05, k), rng.uniform(0.6, 0.95, k), cov[keep])


def tracker_ms_per_tick(vehicles: int, ticks: int, seed: int, config: TrackerConfig = TrackerConfig()) -> dict:
    rng = np.random.default_rng(seed)
    start, speed = _scene(rng, vehicles)
    tracker = MultiObjectTracker(config)
    ego_speed, busy, counts = 25.0, [], []
    for k in range(ticks):
        t = 0.1 * k
        ego = EgoState(t, ego_speed * t, 0.0, 0.0, ego_speed)
        rel = start + np.column_stack([(speed - ego_speed) * t, np.zeros(vehicles)])
        batches = [_detect(rng, rel, t, "lidar"), _detect(rng, rel, t, "camera")]
        t0 = time.perf_counter()
        tracker.update(batches, ego)
        counts.append(len(tracker.tracks()))
        busy.append(time.perf_counter() - t0)
    warm = busy[ticks // 5:]  # tracks are being born in the first ticks
    return {"ms_per_tick": 1000.0 * float(np.median(warm)), "ms_per_tick_p95": 1000.0 * float(np.percentile(warm, 95)),
            "tracks_output": float(np.median(counts[ticks // 5:]))}


def run_tracker_bench(vehicles: int = 50, ticks: int = 200, repeats: int = 3, seed: int = 0) -> dict:
    runs = [{"seed": seed + r, **tracker_ms_per_tick(vehicles, ticks, seed + r)} for r in range(repeats)]
    return {"vehicles": vehicles, "ticks": ticks, "repeats": repeats, "median": medians(runs), "runs": runs,
            "machine": machine_info()}


def format_tracker_bench(result: dict) -> str:
    m = result["median"]
    return (f"tracker benchmark: {result['vehicles']} vehicles, lidar + camera, {result['ticks']} ticks x "
            f"{result['repeats']} repeats ({result['machine']})\n"
            f"  update + output   {m['ms_per_tick']:6.2f} ms per tick (median; p95 {m['ms_per_tick_p95']:.2f} ms), "
            f"{m['tracks_output']:.0f} tracks output")
