"""Batch simulation: a suite of (scenario, planner, world model, seed) jobs on a worker pool."""
from __future__ import annotations

import multiprocessing as mp
import os
from dataclasses import dataclass
from typing import Iterable, Iterator

from tqdm import tqdm

from sim.metrics import EpisodeMetrics, compute_episode_metrics
from sim.runner import RunSetup, run_episode


@dataclass(frozen=True)
class Job:
    setup: RunSetup
    seed: int


def _run_job(job: Job) -> EpisodeMetrics:
    return compute_episode_metrics(run_episode(job.setup, job.seed))


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def run_jobs(jobs: list[Job], workers: int = 1, desc: str = "episodes") -> list[EpisodeMetrics]:
    """Run jobs sequentially (workers=1) or on a process pool; results keep the jobs' order."""
    bar = tqdm(total=len(jobs), desc=desc, unit="ep", dynamic_ncols=True)
    results: list[EpisodeMetrics | None] = [None] * len(jobs)
    try:
        for i, metrics in _iterate(jobs, workers):
            results[i] = metrics
            bar.update(1)
    finally:
        bar.close()
    return [r for r in results if r is not None]


def _iterate(jobs: list[Job], workers: int) -> Iterator[tuple[int, EpisodeMetrics]]:
    if workers <= 1 or len(jobs) <= 1:
        for i, job in enumerate(jobs):
            yield i, _run_job(job)
        return
    # fork: workers inherit the imported stack (and need no importable __main__); spawn elsewhere.
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ctx.Pool(processes=workers, initializer=_worker_init) as pool:
        yield from pool.imap_unordered(_indexed, list(enumerate(jobs)), chunksize=1)


def _indexed(item: tuple[int, Job]) -> tuple[int, EpisodeMetrics]:
    return item[0], _run_job(item[1])


def _worker_init() -> None:
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def suite_jobs(setups: Iterable[RunSetup], seeds: list[int]) -> list[Job]:
    """Every setup on the same seeds (so planners are compared on identical traffic)."""
    return [Job(setup, seed) for setup in setups for seed in seeds]
