"""Composes the stack in highway-env: scenarios, sensors, the closed loop, evaluation, RL, logs,
benches and the CLI; the only package that touches highway-env (in ``sim.highway``).

The public names below are imported on first use (so ``import sim.highway.frames`` stays light)::

    from sim import build_setup, run_episode, compute_episode_metrics
    setup = build_setup("highway", "rule", "ground_truth", ["scenario.duration_s=5"])
    metrics = compute_episode_metrics(run_episode(setup, seed=0))
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "RunSetup": "sim.loop.setup", "build_setup": "sim.loop.setup", "open_env": "sim.loop.setup",
    "Episode": "sim.loop.tick", "TickRecord": "sim.loop.tick", "run_episode": "sim.loop.runner",
    "Timings": "sim.loop.runner", "EpisodeLog": "sim.loop.episode", "make_world_source": "sim.loop.world_sources",
    "WORLD_SOURCES": "sim.loop.world_sources", "DRIVERS": "sim.loop.drivers",
    "compute_episode_metrics": "sim.evaluation.metrics", "aggregate": "sim.evaluation.metrics",
    "format_table": "sim.evaluation.metrics", "DriveEnv": "sim.rl.env",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sim' has no attribute '{name}'")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
