"""``evaluate-tracking``: MOTA / IDF1 of the tracker per sensor set against simulator ground truth."""
from __future__ import annotations

import argparse

from sim.cli.common import add_command, json_parent, positive, print_result, seed_parent, set_parent, workers_parent


def add_arguments(sub) -> None:
    t = add_command(sub, "evaluate-tracking", "MOTA / IDF1 of the tracker per sensor set against ground truth",
                    "drivestack evaluate-tracking --scenario highway --episodes 10 --seed 4242",
                    [seed_parent(what="first seed (data sets for training use 1000+)"),
                     json_parent("the figures per sensor set"), set_parent(), workers_parent()])
    t.add_argument("--scenario", default="highway", help="scenario in configs/scenarios")
    t.add_argument("--episodes", type=int, default=10, help="episodes (seeds SEED..SEED+N-1)")
    t.set_defaults(run=evaluate_tracking)


def evaluate_tracking(args: argparse.Namespace) -> int:
    from sim.backends.local import default_workers, run_parallel
    from sim.evaluation.tracking import TrackingJob, combine, format_tracking, track_episode
    from sim.loop.setup import build_setup

    positive("--episodes", args.episodes)
    positive("--workers", args.workers)
    setup = build_setup(args.scenario, "rule", "ground_truth", args.overrides)
    jobs = [TrackingJob(setup, s) for s in range(args.seed, args.seed + args.episodes)]
    accs = run_parallel(track_episode, jobs, args.workers or default_workers(), "evaluate-tracking", "episode")
    results = {name: combine([a[name].summary() for a in accs]) for name in accs[0]}
    return print_result(format_tracking(results, len(jobs), args.scenario), args.json,
                        {"scenario": args.scenario, "seeds": [args.seed, args.seed + args.episodes], "results": results})
