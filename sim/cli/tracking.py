"""``evaluate-tracking``: the tracker per sensor set against simulator ground truth (MOTA / IDF1, NIS
per source), or on a KITTI tracking layout (sAMOTA / MOTA / IDSW / FRAG, KITTI/AB3DMOT conventions)."""
from __future__ import annotations

import argparse
from pathlib import Path

from fusion.tracker import TRACKER_PRESETS
from sim.cli.common import (add_command, backend_of, choice, interrupted, json_parent, names, positive, print_result,
                            seed_parent, set_parent, valid, workers_parent)


def add_arguments(sub) -> None:
    t = add_command(sub, "evaluate-tracking", "tracking accuracy per sensor set in simulation, or on KITTI data",
                    "drivestack evaluate-tracking --scenario highway --episodes 10 --seed 4242",
                    [seed_parent(what="first seed (data sets for training use 1000+)"),
                     json_parent("the figures"), set_parent(), workers_parent()])
    t.add_argument("--scenario", default="highway", help="scenario in configs/scenarios")
    t.add_argument("--episodes", type=int, default=10, help="episodes (seeds SEED..SEED+N-1)")
    t.add_argument("--window", default=None, metavar="START,END",
                   help="score only the frames stamped in this time window [s], e.g. 10,20 for a blackout")
    t.add_argument("--kitti", type=Path, default=None, metavar="DIR",
                   help="instead: a KITTI tracking layout (detections/, labels/, calib/, seqmap_train.txt)")
    t.add_argument("--trackers", default="project,greedy", help="--kitti: comma-separated trackers (project, greedy)")
    t.add_argument("--preset", default=None, type=choice(TRACKER_PRESETS), metavar=valid(TRACKER_PRESETS),
                   help="tracker preset (default: sensor_frame with --kitti, else perception.tracker_preset)")
    t.add_argument("--detector", default="pointrcnn_car", help="--kitti: folder under detections/")
    t.add_argument("--export", type=Path, default=None, metavar="DIR",
                   help="--kitti: write KITTI-format results to DIR/TRACKER/data/NNNN.txt")
    t.set_defaults(run=evaluate_tracking)


def evaluate_tracking(args: argparse.Namespace) -> int:
    if args.kitti is not None:
        return _kitti(args)
    from sim.backends import Interrupted, run_parallel
    from sim.evaluation.error_correlation import correlation_summary, format_correlation
    from sim.evaluation.tracking import TrackingJob, combine, format_nis, format_tracking, nis_summary, track_episode
    from sim.loop.setup import build_setup

    positive("--episodes", args.episodes)
    backend = backend_of(args)
    overrides = args.overrides + ([f"perception.tracker_preset={args.preset}"] if args.preset else [])
    setup = build_setup(args.scenario, "rule", "ground_truth", overrides)
    window = _window(args.window)
    jobs = [TrackingJob(setup, s, window_s=window) for s in range(args.seed, args.seed + args.episodes)]
    try:
        runs, partial = run_parallel(track_episode, jobs, backend, "evaluate-tracking",
                                     "episode"), False
    except Interrupted as stop:  # score the episodes that finished, mark the JSON partial, exit 130
        runs, partial = stop.results, True
    if partial and not runs:
        return interrupted("0 episodes finished")
    results = {name: combine([r.accumulators[name].summary() for r in runs]) for name in runs[0].accumulators}
    nis = nis_summary([n for r in runs for n in r.nis])
    correlation = correlation_summary([p for r in runs for p in r.error_pairs])
    text = format_tracking(results, len(runs), args.scenario) + ("" if window is None else
                                                                    f"\n(frames in {window[0]:g}-{window[1]:g} s only)")
    code = print_result(text + "\n\n" + format_nis(nis) + "\n\n" + format_correlation(correlation), args.json,
                        {"scenario": args.scenario, "seeds": [r.seed for r in runs], "window_s": window,
                         "results": results, "nis": nis, "error_correlation": correlation, "partial": partial})
    return interrupted(f"{len(runs)} episodes finished", args.json) if partial else code


def _window(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        start, end = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--window must be START,END in seconds, got '{text}'") from None
    if not end > start:
        raise ValueError(f"--window end must be after its start, got '{text}'")
    return start, end


def _kitti(args: argparse.Namespace) -> int:
    from sim.evaluation.kitti_run import TRACKERS, format_kitti, run_kitti

    trackers = list(TRACKERS.check_all(names(args.trackers)))
    runs = run_kitti(args.kitti, trackers, args.preset or "sensor_frame", args.detector, args.export)
    payload = {"kitti": str(args.kitti), "runs": [{"tracker": r.tracker, "preset": r.preset,
                                                   "tracking_s": r.tracking_s, "frames": r.frames,
                                                   "results": [vars(x) for x in r.results]} for r in runs]}
    text = format_kitti(runs, args.kitti)
    if args.export is not None:
        text += f"\nKITTI-format results: {args.export}/<tracker>/data/"
    return print_result(text, args.json, payload)
