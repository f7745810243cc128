"""Batch simulation: (set-up, seed) jobs, each one closed-loop episode scored with the driving metrics."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sim.backends import Backend, run_parallel
from sim.evaluation.metrics import EpisodeMetrics, compute_episode_metrics
from sim.loop.runner import run_episode
from sim.loop.setup import RunSetup


@dataclass(frozen=True)
class Job:
    setup: RunSetup
    seed: int


def run_job(job: Job) -> EpisodeMetrics:
    return compute_episode_metrics(run_episode(job.setup, job.seed))


def run_jobs(jobs: list[Job], backend: Backend | int = 1, desc: str = "episodes") -> list[EpisodeMetrics]:
    """Run episodes on a backend (an int: the local pool's size); results keep the jobs' order."""
    return run_parallel(run_job, jobs, backend, desc, unit="ep")


def suite_jobs(setups: Iterable[RunSetup], seeds: list[int]) -> list[Job]:
    """Every setup on the same seeds (so planners are compared on identical traffic)."""
    return [Job(setup, seed) for setup in setups for seed in seeds]
