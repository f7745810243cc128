"""Replay speed (``drivestack bench-replay``): replay ticks per second as a multiple of the log's
recording rate, with the time split by phase, median over repeated replays of the same log."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sim.bench.timing import machine_info, medians
from sim.logs.replay import replay_log
from sim.logs.replay_config import ReplayOptions

PHASES = (("scan", "scan (index pass)"), ("decode", "decode"), ("detector_lidar", "lidar net"),
          ("detector_camera", "camera net"), ("detector_classical", "classical detector"), ("tracker", "tracker"),
          ("planner", "planner"), ("scoring", "scoring and compare"))


def run_replay_bench(path: str | Path, options: ReplayOptions, repeats: int) -> dict:
    """``repeats`` replays (the first also loads the networks, which no replay's time includes)."""
    import torch

    options = replace(options, progress=False, out=None)
    runs = []
    for _ in range(repeats):
        r = replay_log(path, options)
        per_tick = {k: 1000.0 * v / max(r.ticks, 1) for k, v in r.timings_s.items()}
        runs.append({"ticks": r.ticks, "wall_s": r.wall_s, "ticks_per_s": r.ticks / r.wall_s,
                     "tick_ms": 1000.0 * r.wall_s / max(r.ticks, 1), **per_tick})
    keys = sorted({k for run in runs for k in run})
    median = medians([{k: run.get(k, 0.0) for k in keys} for run in runs], skip=())
    return {"log": str(path), "ticks": r.ticks, "rate_hz": 1.0 / r.config.dt_s, "detectors": list(r.config.detectors),
            "planner": r.config.planner if r.config.lane_map is not None else None, "repeats": repeats,
            "pipelined": r.config.perception.runtime != "torch",
            "torch_threads": torch.get_num_threads(), "machine": machine_info(), "median": median, "runs": runs}


def format_replay_bench(result: dict) -> str:
    m, rate = result["median"], result["rate_hz"]
    lines = [f"replay benchmark: {result['log']}, {result['ticks']} ticks recorded at {rate:g} Hz; detectors "
             f"{', '.join(result['detectors'])}; planner {result['planner'] or 'not run'}; median of "
             f"{result['repeats']} replays ({result['machine']}, {result['torch_threads']} torch threads)",
             f"  replay rate      {m['ticks_per_s']:8.1f} ticks/s = {m['ticks_per_s'] / rate:.2f} x real time "
             f"({rate:g} Hz)",
             f"  per tick         {m['tick_ms']:8.2f} ms"]
    lines += [f"    {label:<22} {m[key]:8.2f} ms" for key, label in PHASES if key in m]
    if result.get("pipelined"):
        lines.append("  (the detectors run one batch of ticks ahead in a second thread: their time overlaps the rest)")
    return "\n".join(lines)
