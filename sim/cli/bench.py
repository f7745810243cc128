"""Benchmarks: closed loop, sensors, RL env, replay and detectors, each against its reference in one run."""
from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.common import (add_command, add_runtime_options, choice, json_parent, names, positive, print_result,
                            runtime_options, seed_parent, set_parent, valid)
from sim.cli.simulate import add_setup_arguments, check_policy_use
from sim.loop.setup import build_setup
from sim.sensors.rig import RIGS


def add_arguments(sub) -> None:
    b = add_command(sub, "bench", "closed-loop step time vs the bare highway-env step on the same config",
                    "drivestack bench --scenario highway --world-model perception --repeats 3",
                    [seed_parent(what="first seed; repeat r uses SEED+r"), json_parent("the medians and every run"),
                     set_parent()])
    add_setup_arguments(b)
    b.add_argument("--repeats", type=int, default=3, help="episodes (medians are reported)")
    b.set_defaults(run=bench)
    s = add_command(sub, "bench-sensors", "camera and lidar generation time vs the bare highway-env step",
                    "drivestack bench-sensors --scenario highway --ticks 100 --repeats 3",
                    [seed_parent(), json_parent("the medians and every run"), set_parent("scenario, sensors")])
    s.add_argument("--scenario", default="highway", help="scenario in configs/scenarios")
    s.add_argument("--rig", default="default", type=choice(RIGS), metavar=valid(RIGS), help="sensor rig")
    s.add_argument("--ticks", type=int, default=100, help="ticks per repeat")
    s.add_argument("--repeats", type=int, default=3, help="repeats (medians are reported)")
    s.set_defaults(run=bench_sensors)
    r = add_command(sub, "bench-rl", "RL env steps/s per world model vs the bare highway-env step",
                    "drivestack bench-rl --env drivestack/Highway-v0 --world-models surrogate,ground_truth",
                    [seed_parent(), json_parent("the medians and every run"), set_parent("env, scenario, planner, perception")])
    r.add_argument("--env", default="drivestack/Highway-v0", help="env id or scenario name")
    r.add_argument("--world-models", default="surrogate,ground_truth", help="comma-separated world models")
    r.add_argument("--steps", type=int, default=100, help="env steps (decisions) per repeat")
    r.add_argument("--repeats", type=int, default=3, help="repeats (medians are reported)")
    r.set_defaults(run=bench_rl)
    p = add_command(sub, "bench-replay", "replay ticks/s as a multiple of the recording rate, time per phase",
                    "drivestack bench-replay out/run.mcap --repeats 3", [json_parent("the medians and every run")])
    p.add_argument("log", type=Path, help="MCAP log written by simulate --record")
    from sim.cli.logs import add_replay_options
    add_replay_options(p, threads=2)
    p.add_argument("--repeats", type=int, default=3, help="replays (medians are reported)")
    p.set_defaults(run=bench_replay)
    k = add_command(sub, "bench-tracker", "multi-object tracker cost per tick on a synthetic scene",
                    "drivestack bench-tracker --vehicles 50", [seed_parent(), json_parent("the medians and every run")])
    k.add_argument("--vehicles", type=int, default=50, help="vehicles around the ego")
    k.add_argument("--ticks", type=int, default=200, help="ticks per repeat")
    k.add_argument("--repeats", type=int, default=3, help="repeats (medians are reported)")
    k.set_defaults(run=bench_tracker)
    d = add_command(sub, "bench-perception", "detector latency (batch 1) and throughput at a larger batch",
                    "drivestack bench-perception --model camera --data data/ds1 --frames 128 --batch 32",
                    [json_parent("the figures")])
    d.add_argument("--model", default="lidar", choices=["lidar", "camera"], help="detector network")
    d.add_argument("--data", type=Path, required=True, help="directory written by datagen")
    d.add_argument("--weights", type=Path, default=None, help="network weights (default: the shipped ones)")
    d.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"], help="torch device")
    d.add_argument("--batch", type=int, default=32, help="batch size of the throughput run")
    d.add_argument("--frames", type=int, default=128, help="frames timed")
    d.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    d.add_argument("--repeats", type=int, default=3, help="latency passes over the frames (median of their medians)")
    d.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                   help="bfloat16 autocast (default: on where the CPU/GPU supports it)")
    add_runtime_options(d)
    d.set_defaults(run=bench_perception)


def bench(args: argparse.Namespace) -> int:
    from sim.bench.loop import format_bench, run_bench

    positive("--repeats", args.repeats)
    check_policy_use(args)
    setup = build_setup(args.scenario, args.planner, args.world_model, args.overrides, args.policy)
    result = run_bench(setup, args.repeats, args.seed)
    return print_result(format_bench(result), args.json, result)


def bench_rl(args: argparse.Namespace) -> int:
    from sim.bench.rl import format_rl_bench, run_rl_bench
    from sim.loop.world_sources import WORLD_SOURCES
    from sim.rl.train import scenario_of

    positive("--steps", args.steps)
    positive("--repeats", args.repeats)
    models = list(WORLD_SOURCES.check_all(names(args.world_models)))
    result = run_rl_bench(scenario_of(args.env), models, args.steps, args.repeats, args.seed, args.overrides)
    return print_result(format_rl_bench(result), args.json, result)


def bench_sensors(args: argparse.Namespace) -> int:
    from sim.bench.sensors import format_sensor_bench, run_sensor_bench

    positive("--ticks", args.ticks)
    positive("--repeats", args.repeats)
    setup = build_setup(args.scenario, "rule", "ground_truth", args.overrides, rig=args.rig)
    result = run_sensor_bench(setup, setup.rig, args.ticks, args.repeats, args.seed)
    return print_result(format_sensor_bench(result), args.json, result)


def bench_replay(args: argparse.Namespace) -> int:
    from sim.bench.replay import format_replay_bench, run_replay_bench
    from sim.cli.logs import replay_options

    positive("--repeats", args.repeats)
    result = run_replay_bench(args.log, replay_options(args), args.repeats)
    return print_result(format_replay_bench(result), args.json, result)


def bench_tracker(args: argparse.Namespace) -> int:
    from sim.bench.tracker import format_tracker_bench, run_tracker_bench

    for name in ("--vehicles", "--ticks", "--repeats"):
        positive(name, getattr(args, name[2:]))
    result = run_tracker_bench(args.vehicles, args.ticks, args.repeats, args.seed)
    return print_result(format_tracker_bench(result), args.json, result)


def bench_perception(args: argparse.Namespace) -> int:
    from perception.bench import bench_detector

    for name in ("--batch", "--frames", "--threads", "--repeats"):
        positive(name, getattr(args, name[2:]))
    run = runtime_options(args)
    r = bench_detector(args.model, args.data, args.weights, args.device, args.batch, args.frames, args.threads, args.bf16,
                       args.repeats, run["runtime"], run["precision"])
    text = (f"{args.model} detector, {r['runtime']} {r['precision']}, on {r['device']} ({r['threads']} threads, "
            f"bf16 {r['bf16']}, {r['machine']}): "
            f"median {r['latency_ms_median']:.1f} ms/frame at batch 1 over {r['frames']} frames "
            f"(passes: {', '.join(f'{v:.1f}' for v in r['latency_ms_runs'])} ms), "
            f"{r['frames_per_s']:.1f} frames/s at batch {r['batch']}")
    return print_result(text, args.json, r)
