"""The timing helpers every benchmark shares: the bare highway-env step on the same config, medians
over repeats, and a one-line description of the machine."""
from __future__ import annotations

import os
import platform
import statistics
import time

import numpy as np

from sim.loop.setup import RunSetup, open_env


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


def medians(rows: list[dict], skip: tuple[str, ...] = ("seed",)) -> dict[str, float]:
    """Per-key median over repeats (keys of the first row, except ``skip``)."""
    return {k: statistics.median(row[k] for row in rows) for k in rows[0] if k not in skip}


def machine_info() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
