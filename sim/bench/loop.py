"""Benchmark: closed-loop stack step vs bare highway-env step on the identical config, one run."""
from __future__ import annotations

import platform
import statistics
import time

import numpy as np

from sim.loop.runner import RunSetup, Timings, open_env, run_episode


def bare_step_ms(setup: RunSetup, seed: int, ticks: int) -> float:
    """Mean wall time [ms] of ``env.step`` with a constant (idle) action, resets excluded."""
    env = open_env(setup)
    try:
        env.reset(seed=seed)
        action = np.array([0.5, 0.0], dtype=np.float32)  # ~ zero acceleration with range [-6, 3]
        total, n = 0.0, 0
        while n < ticks:
            t0 = time.perf_counter()
            _, _, terminated, truncated, _ = env.step(action)
            total += time.perf_counter() - t0
            n += 1
            if terminated or truncated:
                env.reset(seed=seed + n)
        return 1000.0 * total / n
    finally:
        env.close()


def stack_step(setup: RunSetup, seed: int) -> tuple[float, dict[str, float], int]:
    """Mean closed-loop tick [ms], per-phase ms per tick, and ticks, over one episode."""
    timings = Timings()
    run_episode(setup, seed, timings=timings)
    per = timings.per_tick_ms()
    return sum(v for k, v in per.items() if "." not in k), per, timings.ticks  # "a.b" entries are parts of "a"


def run_bench(setup: RunSetup, repeats: int, seed: int = 0) -> dict:
    """Interleave bare and stack runs on the same seeds; report medians and the median ratio."""
    rows = []
    for r in range(repeats):
        tick_ms, per, ticks = stack_step(setup, seed + r)
        bare_ms = bare_step_ms(setup, seed + r, ticks)
        rows.append({"seed": seed + r, "ticks": ticks, "bare_ms": bare_ms, "stack_ms": tick_ms, **per,
                     "ratio": tick_ms / bare_ms})
    med = {k: statistics.median(row[k] for row in rows) for k in rows[0] if k != "seed"}
    return {"scenario": setup.scenario.name, "planner": setup.planner, "world_model": setup.world_model,
            "repeats": repeats, "median": med, "runs": rows, "machine": machine_info()}


def machine_info() -> str:
    import os
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def format_bench(result: dict) -> str:
    m = result["median"]
    top = [k for k in m if k not in ("ticks", "bare_ms", "stack_ms", "ratio") and "." not in k]
    phases = [p for k in top for p in [k, *(c for c in m if c.startswith(k + "."))]]
    lines = [f"closed-loop benchmark: {result['scenario']} / {result['planner']} / {result['world_model']}, "
             f"median of {result['repeats']} episodes ({result['machine']})",
             f"  bare highway-env step      {m['bare_ms']:8.2f} ms",
             f"  closed-loop tick (total)   {m['stack_ms']:8.2f} ms   = {m['ratio']:.2f} x bare step",
             *[f"    {k:<24} {m[k]:8.2f} ms" if "." not in k else f"      {k.split('.', 1)[1]:<22} {m[k]:8.2f} ms"
               for k in phases],
             f"  stack overhead on top of the bare step: {100 * (m['ratio'] - 1):.0f}%  "
             f"({1000.0 / m['stack_ms']:.1f} closed-loop steps/s vs {1000.0 / m['bare_ms']:.1f} bare steps/s)"]
    return "\n".join(lines)
