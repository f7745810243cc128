"""Benchmark: camera and lidar generation per tick vs the bare highway-env step, in one run."""
from __future__ import annotations

import time

import numpy as np
import open3d.core as o3c

from sim.bench.timing import machine_info, medians
from sim.highway.ground_truth import VehicleIds, capture
from sim.highway.roadmap import build_lane_map
from sim.loop.setup import RunSetup, open_env
from sim.sensors.rig import RigConfig
from sim.sensors.scene import build_scene
from sim.sensors.simulator import SensorSimulator, scene_vehicles


def _one_run(setup: RunSetup, rig: RigConfig, ticks: int, seed: int) -> dict[str, float]:
    """Mean ms per tick of the bare step, camera-only, lidar-only and full rendering on the same states."""
    env = open_env(setup)
    try:
        env.reset(seed=seed)
        lane_map, ids = build_lane_map(env.unwrapped.road.network), VehicleIds()
        rigs = {"camera_ms": RigConfig(cameras=rig.cameras, lidars=(), noise=rig.noise),
                "lidar_ms": RigConfig(cameras=(), lidars=rig.lidars, noise=rig.noise), "sensors_ms": rig}
        sims = {key: SensorSimulator(r, lane_map, seed) for key, r in rigs.items()}  # one per rig, timed apart
        acc = {"bare_step_ms": 0.0, "camera_ms": 0.0, "lidar_ms": 0.0, "sensors_ms": 0.0, "scene_build_ms": 0.0}
        probe = np.array([[0, 0, 1, 1, 0, 0]], np.float32)
        action = np.array([0.5, 0.0], dtype=np.float32).tolist()
        for tick in range(ticks):
            t0 = time.perf_counter()
            _, _, term, trunc, _ = env.step(action)
            acc["bare_step_ms"] += time.perf_counter() - t0
            gt = capture(env, tick * setup.scenario.dt_s, ids)
            for key, sim in sims.items():
                t0 = time.perf_counter()
                sim.render(gt)
                acc[key] += time.perf_counter() - t0
            t0 = time.perf_counter()
            build_scene(scene_vehicles(gt, rig.vehicle_height_m)).cast_rays(o3c.Tensor(probe))  # forces the BVH
            acc["scene_build_ms"] += time.perf_counter() - t0
            if term or trunc:
                env.reset(seed=seed + tick + 1)
        return {k: 1000.0 * v / ticks for k, v in acc.items()}
    finally:
        env.close()


def run_sensor_bench(setup: RunSetup, rig: RigConfig, ticks: int, repeats: int, seed: int = 0) -> dict:
    runs = [_one_run(setup, rig, ticks, seed + r) for r in range(repeats)]
    for run in runs:
        run["ratio_to_bare"] = run["sensors_ms"] / run["bare_step_ms"]
    med = medians(runs, skip=())
    rig_desc = [f"camera {c.name} {c.width_px}x{c.height_px}" for c in rig.cameras] + \
               [f"lidar {l.name} {l.n_beams}x{int(round(360 / l.azimuth_resolution_deg))}" for l in rig.lidars]
    return {"scenario": setup.scenario.name, "rig": rig_desc, "ticks": ticks, "repeats": repeats,
            "median": med, "runs": runs, "machine": machine_info()}


def format_sensor_bench(result: dict) -> str:
    m = result["median"]
    return "\n".join([
        f"sensor benchmark: {result['scenario']}, rig {', '.join(result['rig'])}, "
        f"median of {result['repeats']} runs x {result['ticks']} ticks ({result['machine']})",
        f"  bare highway-env step   {m['bare_step_ms']:7.2f} ms",
        f"  camera                  {m['camera_ms']:7.2f} ms   = {m['camera_ms'] / m['bare_step_ms']:.2f} x bare step",
        f"  lidar                   {m['lidar_ms']:7.2f} ms   = {m['lidar_ms'] / m['bare_step_ms']:.2f} x bare step",
        f"  both (one render call)  {m['sensors_ms']:7.2f} ms   = {m['ratio_to_bare']:.2f} x bare step",
        f"  of which one vehicle-scene rebuild (open3d BVH of all boxes) {m['scene_build_ms']:.2f} ms",
    ])
