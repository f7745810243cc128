"""Benchmark: RL training-environment throughput vs the bare highway-env step, same config, one run.

Both sides step the same scenario config on the same seeds, interleaved repeat by repeat, and time
only their steps (the idle bare ego runs into traffic and resets far more often than a driving
policy does, so timing resets would flatter the ratio): the bare side is ``sim.bench.loop.bare_step_ms``
(highway-env's ``step`` with an idle action), the ``DriveEnv`` side takes random behaviours (each one decision = ``ticks_per_decision`` simulator ticks with the world model,
trajectory generation and control in the loop). Throughput is compared per simulator tick, and
reported as env steps/s too.
"""
from __future__ import annotations

import time

import numpy as np

from sim.bench.timing import bare_step_ms, machine_info, medians
from sim.rl.env import DriveEnv


def drive_env_steps_per_s(env: DriveEnv, seed: int, steps: int) -> float:
    """DriveEnv steps per second with random behaviours, resets not timed."""
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    busy = 0.0
    for _ in range(steps):
        t0 = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
        busy += time.perf_counter() - t0
        if terminated or truncated:
            env.reset()
    return steps / busy


def run_rl_bench(scenario: str, world_models: list[str], steps: int, repeats: int, seed: int = 0,
                 overrides: list[str] | None = None) -> dict:
    envs = {wm: DriveEnv(scenario, wm, overrides or []) for wm in world_models}
    first = next(iter(envs.values()))
    tpd = first.ticks_per_decision
    rows = []
    try:
        for r in range(repeats):
            row = {"seed": seed + r, "bare_ticks_per_s": 1000.0 / bare_step_ms(first.setup, seed + r, steps * tpd)}
            for wm, env in envs.items():
                sps = drive_env_steps_per_s(env, seed + r, steps)
                row[f"{wm}_steps_per_s"] = sps
                row[f"{wm}_ratio"] = sps * tpd / row["bare_ticks_per_s"]
            rows.append(row)
    finally:
        for env in envs.values():
            env.close()
    med = medians(rows)
    return {"scenario": scenario, "world_models": world_models, "steps": steps, "ticks_per_decision": tpd,
            "repeats": repeats, "median": med, "runs": rows, "machine": machine_info()}


def format_rl_bench(result: dict) -> str:
    m, tpd = result["median"], result["ticks_per_decision"]
    lines = [f"RL env throughput: {result['scenario']}, {result['steps']} env steps x {result['repeats']} repeats, "
             f"1 env step = {tpd} ticks, medians ({result['machine']})",
             f"  bare highway-env            {m['bare_ticks_per_s']:7.1f} ticks/s = "
             f"{m['bare_ticks_per_s'] / tpd:6.2f} decision-equivalents/s"]
    for wm in result["world_models"]:
        lines.append(f"  DriveEnv ({wm:<12})     {m[f'{wm}_steps_per_s'] * tpd:7.1f} ticks/s = "
                     f"{m[f'{wm}_steps_per_s']:6.2f} env steps/s   = {m[f'{wm}_ratio']:.2f} x bare")
    return "\n".join(lines)
