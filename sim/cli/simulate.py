"""Closed-loop runs: ``simulate`` (episodes of one set-up, video, log) and ``evaluate`` (a suite)."""
from __future__ import annotations

import argparse
from dataclasses import replace

from sim.cli.common import (add_command, backend_of, choice, diagnostics_verdict, json_parent, names, output_file,
                            port_number, positive, report_episodes, seed_parent, seed_range, seed_value, set_parent,
                            valid, workers_parent)
from sim.config import to_dict
from sim.backends import Interrupted
from sim.diagnostics import FAIL_ON, DiagnosticsMonitor, DiagnosticsSummary, config_for
from sim.evaluation.jobs import Job, run_diagnosed_jobs, run_jobs, suite_jobs
from sim.evaluation.metrics import compute_episode_metrics
from sim.evaluation.suite import SUITES, load_suite
from sim.highway.scenarios import SCENARIOS
from sim.loop.drivers import DRIVERS
from sim.loop.faults import FAULT_KINDS, parse_fault
from sim.loop.runner import run_episode
from sim.loop.setup import build_setup
from sim.loop.world_sources import WORLD_SOURCES
from sim.sensors.rig import RIGS


def add_setup_arguments(p: argparse.ArgumentParser) -> None:
    """--scenario, --planner, --world-model, --policy (shared with bench)."""
    p.add_argument("--scenario", default="highway", type=choice(SCENARIOS, paths=True), metavar=valid(SCENARIOS),
                   help="scenario in configs/scenarios, or a scenario YAML path")
    p.add_argument("--planner", default="rule", type=choice(DRIVERS), metavar=valid(DRIVERS),
                   help="rule planner, a trained RL policy, or highway-env's IDM/MOBIL as the ego")
    p.add_argument("--world-model", default="ground_truth", type=choice(WORLD_SOURCES), metavar=valid(WORLD_SOURCES),
                   help="what the planner sees: simulator truth, the perception stack, or the surrogate")
    p.add_argument("--policy", default=None,
                   help="trained policy file for --planner rl "
                        "(default: planning/policies/SCENARIO_dqn.zip, else highway_dqn.zip)")


def add_diagnostics_arguments(p: argparse.ArgumentParser) -> None:
    """--fail-on and --tick-budget-ms (simulate and replay)."""
    p.add_argument("--fail-on", choices=FAIL_ON, default="never",
                   help="exit 1 when a runtime diagnostic reaches this level (for CI); the summary is printed anyway")
    p.add_argument("--tick-budget-ms", type=float, default=None, metavar="MS",
                   help="stack time per tick (perception, fusion, planning, control) over which the loop "
                        "diagnostic warns; 3x is an error (default: the tick period)")


def add_live_arguments(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--port", type=port_number, default=8765,
                   help=f"port of the Foxglove WebSocket server of {what} (0: any free port)")
    p.add_argument("--host", default="127.0.0.1", help="address the server listens on (0.0.0.0: every interface)")


def add_arguments(sub) -> None:
    p = add_command(sub, "simulate", "run closed-loop episodes and print driving metrics",
                    "drivestack simulate --world-model perception --episodes 2 --video out/run.mp4",
                    [seed_parent(), json_parent("per-episode and aggregate metrics"), set_parent(), workers_parent()])
    add_setup_arguments(p)
    p.add_argument("--episodes", type=int, default=1, help="number of episodes (seeds SEED..SEED+N-1)")
    p.add_argument("--video", type=output_file(".mp4"), default=None, metavar="FILE.mp4", help="write an MP4 of the first episode")
    p.add_argument("--camera-view", action=argparse.BooleanOptionalAction, default=True,
                   help="show the simulated front camera beside the top-down view in the video")
    p.add_argument("--rig", default=None, type=choice(RIGS), metavar=valid(RIGS),
                   help="sensor rig (configs/sensors; default: default), for the perception and surrogate world "
                        "models, --record and the video's camera view")
    p.add_argument("--record", type=output_file(".mcap"), default=None, metavar="LOG.mcap",
                   help="record every tick of the first episode to an MCAP log (sensors, ground truth, outputs, "
                        "diagnostics)")
    p.add_argument("--live", action="store_true",
                   help="stream every tick of the first episode to Foxglove over WebSocket (ws://HOST:PORT)")
    add_live_arguments(p, "--live")
    p.add_argument("--live-rate", type=float, default=1.0, metavar="X",
                   help="--live: run at most X times real time, so it can be watched (0: as fast as it runs)")
    add_diagnostics_arguments(p)
    p.add_argument("--inject-fault", dest="faults", action="append", default=[], metavar="KIND:START_S:END_S",
                   help=f"inject a fault into the stack for diagnostics tests ({', '.join(FAULT_KINDS.names())}), "
                        "e.g. slow_tick:2:3; sensor blackouts: --set sensors.faults.lidar_blackout_s=[2,3]; repeatable")
    p.set_defaults(run=simulate)
    e = add_command(sub, "evaluate", "run a suite (scenarios x planners x world models x seeds) and print one table",
                    "drivestack evaluate --suite quick --json out/quick.json",
                    [json_parent("per-episode and aggregate metrics"), set_parent(), workers_parent()])
    e.add_argument("--suite", default="default",
                   help=f"suite name in configs/evaluate ({', '.join(SUITES.names())}) or a YAML path")
    e.add_argument("--scenarios", default=None, help="comma-separated subset of the suite's scenarios")
    e.add_argument("--planners", default=None, help="comma-separated planners (overrides the suite)")
    e.add_argument("--episodes", type=int, default=None, help="episodes per scenario (overrides the suite)")
    e.add_argument("--seed", type=seed_value, default=None,
                   help="first seed (overrides the suite's seed_start): evaluate on seeds the suite was not tuned on")
    e.add_argument("--seeds", type=seed_range, default=None, metavar="A:B",
                   help="seeds A..B-1 for every scenario (overrides --seed and --episodes)")
    e.add_argument("--policy", default=None,
                   help="trained policy file for the rl planner (default: each scenario's shipped one)")
    e.set_defaults(run=evaluate)


def check_policy_use(args: argparse.Namespace) -> None:
    """--policy means nothing to a planner other than rl: refuse it rather than ignore it."""
    if args.policy is not None and args.planner != "rl":
        raise ValueError(f"--policy {args.policy} is only used by --planner rl")


def check_rig_use(args: argparse.Namespace) -> None:
    """--rig means nothing to a ground-truth run that neither records nor films the camera: refuse it."""
    camera_video = args.video is not None and args.camera_view
    if args.rig is not None and args.world_model == "ground_truth" and not camera_video and args.record is None:
        raise ValueError(f"--rig {args.rig} is only used by the perception and surrogate world models, --record "
                         "and --video's camera view; this run uses none of them")


def tick_budget_s(args: argparse.Namespace) -> float | None:
    if args.tick_budget_ms is not None and not args.tick_budget_ms > 0:
        raise ValueError(f"--tick-budget-ms must be positive, got {args.tick_budget_ms}")
    return None if args.tick_budget_ms is None else args.tick_budget_ms / 1000.0


def simulate(args: argparse.Namespace) -> int:
    check_policy_use(args)
    check_rig_use(args)
    positive("--episodes", args.episodes)
    backend = backend_of(args)
    budget = tick_budget_s(args)
    if not args.live_rate >= 0:
        raise ValueError(f"--live-rate must be >= 0, got {args.live_rate}")
    setup = build_setup(args.scenario, args.planner, args.world_model, args.overrides, args.policy,
                        args.rig or "default")
    setup = replace(setup, faults=tuple(parse_fault(f) for f in args.faults))
    seeds = list(range(args.seed, args.seed + args.episodes))
    summaries: list[DiagnosticsSummary] = []

    def keep(results: list) -> list:
        summaries.extend(summary for _, summary in results)
        return [metrics for metrics, _ in results]

    def run() -> list:
        episodes, rest = [], seeds
        if args.video is not None or args.record is not None or args.live:
            episodes = keep([_first_episode(args, setup, seeds[0], budget)])
            rest = seeds[1:]
        try:
            return episodes + keep(run_diagnosed_jobs([Job(setup, s) for s in rest], backend, "simulate", budget)
                                   if rest else [])
        except Interrupted as stop:
            raise Interrupted(episodes + keep(stop.results)) from None

    def total() -> DiagnosticsSummary:
        out = DiagnosticsSummary()
        for summary in summaries:
            out = out.merge(summary)
        return out

    code = report_episodes(run, args.json, {"setup": to_dict(setup), "seeds": seeds},
                           lambda: {"diagnostics": total().to_json()})
    return diagnostics_verdict(total(), args.fail_on, code)


def _first_episode(args: argparse.Namespace, setup, seed: int, budget_s: float | None):
    """The first episode, run here with diagnostics and its video, log recorder and live view as
    tick sinks: (metrics, diagnostics summary)."""
    from sim.loop.video import VideoRecorder

    ticks = int(round(setup.scenario.duration_s * setup.scenario.policy_frequency_hz))
    camera = args.video is not None and args.camera_view and setup.rig.cameras
    monitor = DiagnosticsMonitor(config_for(setup, budget_s))
    video = recorder = live = None
    if args.video is not None:
        aspect = setup.rig.cameras[0].width_px / setup.rig.cameras[0].height_px if camera else None
        video = VideoRecorder(args.video, camera_aspect=aspect, total_frames=ticks)
    if args.record is not None:
        from sim.logs.record import LogRecorder
        recorder = LogRecorder(args.record, setup, seed, total_ticks=ticks, diagnostics=monitor)
    if args.live:
        from sim.live import LiveView
        live = LiveView.start(setup, args.host, args.port, diagnostics=monitor, rate=args.live_rate)
        print(f"live: Foxglove WebSocket at ws://{args.host}:{live.port} (layout: docs/foxglove_layout.json)",
              flush=True)
    sinks = [s for s in (monitor, video, recorder, live) if s is not None]
    interrupted = False
    try:
        episode = run_episode(setup, seed, sinks, sensors=bool(camera) or args.record is not None or args.live,
                              render=args.video is not None)
    except KeyboardInterrupt:
        interrupted = True
        raise Interrupted([]) from None
    finally:
        if video is not None:
            video.close()
        if recorder is not None:
            recorder.close(interrupted)  # an interrupted log is marked so in its metadata
        if live is not None:
            live.close()
    if video is not None:
        print(f"video: {args.video} ({video.frames} frames, seed {seed})")
    if recorder is not None:
        print(f"log: {args.record} ({recorder.ticks} ticks, seed {seed}; drivestack log info {args.record})")
    return compute_episode_metrics(episode), monitor.summary


def evaluate(args: argparse.Namespace) -> int:
    positive("--episodes", args.episodes)
    backend = backend_of(args)
    suite = load_suite(args.suite)
    scenarios = dict(suite.scenarios)
    if args.scenarios:
        scenarios = {s: scenarios.get(s, args.episodes or 1) for s in names(args.scenarios)}
    planners = names(args.planners) if args.planners else list(suite.planners)
    if args.policy is not None and "rl" not in planners:
        raise ValueError(f"--policy {args.policy} is only used by the rl planner, which this run does not include")
    jobs, seeds = [], {}
    for scen, n in scenarios.items():
        # idm drives highway-env's own vehicle model, blind to any world model: run it once, on ground truth
        setups = [build_setup(scen, p, wm, args.overrides, args.policy) for wm in suite.world_models for p in planners
                  if p != "idm"]
        if "idm" in planners:
            setups.append(build_setup(scen, "idm", "ground_truth", args.overrides))
        seeds[scen] = _suite_seeds(args, suite.seed_start, n)
        jobs += suite_jobs(setups, seeds[scen])
    return report_episodes(lambda: run_jobs(jobs, backend, "evaluate"), args.json,
                           {"suite": args.suite, "planners": planners, "scenarios": scenarios, "seeds": seeds})


def _suite_seeds(args: argparse.Namespace, seed_start: int, n: int) -> list[int]:
    """Seeds of one scenario with ``n`` suite episodes: ``--seeds``, else ``--seed``/``--episodes`` over the suite's."""
    if args.seeds is not None:
        return list(range(*args.seeds))
    first = seed_start if args.seed is None else args.seed
    return list(range(first, first + (args.episodes or n)))

