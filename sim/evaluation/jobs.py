"""Batch simulation: (set-up, seed) jobs, each one closed-loop episode scored with the driving metrics."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sim.backends import Backend, run_parallel
from sim.diagnostics import DiagnosticsMonitor, DiagnosticsSummary, config_for
from sim.evaluation.metrics import EpisodeMetrics, compute_episode_metrics
from sim.loop.runner import run_episode
from sim.loop.setup import RunSetup


@dataclass(frozen=True)
class Job:
    setup: RunSetup
    seed: int


def run_job(job: Job) -> EpisodeMetrics:
    return compute_episode_metrics(run_episode(job.setup, job.seed))


def run_diagnosed_job(job: Job, tick_budget_s: float | None = None) -> tuple[EpisodeMetrics, DiagnosticsSummary]:
    """``run_job`` with runtime diagnostics on every tick: the metrics and the diagnostics' summary."""
    monitor = DiagnosticsMonitor(config_for(job.setup, tick_budget_s))
    return compute_episode_metrics(run_episode(job.setup, job.seed, [monitor])), monitor.summary


@dataclass(frozen=True)
class DiagnosedJob:
    job: Job
    tick_budget_s: float | None = None


def _run_diagnosed(item: DiagnosedJob) -> tuple[EpisodeMetrics, DiagnosticsSummary]:
    return run_diagnosed_job(item.job, item.tick_budget_s)


def run_diagnosed_jobs(jobs: list[Job], backend: Backend | int = 1, desc: str = "episodes",
                       tick_budget_s: float | None = None) -> list[tuple[EpisodeMetrics, DiagnosticsSummary]]:
    """``run_jobs`` with diagnostics: (metrics, diagnostics summary) per job, in the jobs' order."""
    return run_parallel(_run_diagnosed, [DiagnosedJob(j, tick_budget_s) for j in jobs], backend, desc, unit="ep")


def run_jobs(jobs: list[Job], backend: Backend | int = 1, desc: str = "episodes") -> list[EpisodeMetrics]:
    """Run episodes on a backend (an int: the local pool's size); results keep the jobs' order."""
    return run_parallel(run_job, jobs, backend, desc, unit="ep")


def suite_jobs(setups: Iterable[RunSetup], seeds: list[int]) -> list[Job]:
    """Every setup on the same seeds (so planners are compared on identical traffic)."""
    return [Job(setup, seed) for setup in setups for seed in seeds]
