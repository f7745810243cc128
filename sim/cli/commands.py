"""Implementations of the CLI subcommands (argument parsing lives in ``sim.cli.main``)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sim.bench.loop import format_bench, run_bench
from sim.config import to_dict
from sim.backends.local import Job, default_workers, run_jobs, run_parallel, suite_jobs
from sim.evaluation.metrics import aggregate, compute_episode_metrics, format_table, jsonable, to_json
from sim.loop.runner import run_episode
from sim.loop.setup import build_setup
from sim.evaluation.suite import load_suite
from sim.loop.video import VideoRecorder


def _positive(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")


def simulate(args: argparse.Namespace) -> int:
    _positive("--episodes", args.episodes)
    _positive("--workers", args.workers)
    setup = build_setup(args.scenario, args.planner, args.world_model, args.overrides, args.policy)
    seeds = list(range(args.seed, args.seed + args.episodes))
    episodes = []
    if args.video is not None or args.record is not None:
        episodes.append(_first_episode(args, setup, seeds[0]))
        seeds = seeds[1:]
    if seeds:
        episodes += run_jobs([Job(setup, s) for s in seeds], args.workers or default_workers(), "simulate")
    return _report(episodes, args.json, {"setup": to_dict(setup), "seeds": [args.seed, args.seed + args.episodes]})


def _first_episode(args: argparse.Namespace, setup, seed: int):
    """The first episode, run here with its video and/or log recorder."""
    ticks = int(round(setup.scenario.duration_s * setup.scenario.policy_frequency_hz))
    video = log = None
    if args.video is not None:
        rig = None
        if args.camera_view:
            from sim.sensors.rig import load_rig
            rig = load_rig(args.rig)
        video = VideoRecorder(args.video, rig=rig, seed=seed, total_frames=ticks)
    if args.record is not None:
        from sim.logs.record import LogRecorder
        log = LogRecorder(args.record, setup, seed, total_ticks=ticks)
    try:
        episode = run_episode(setup, seed, frame_sink=video, tick_sink=log)
    finally:
        for sink in (video, log):
            if sink is not None:
                sink.close()
    if video is not None:
        print(f"video: {args.video} ({video.frames} frames, seed {seed})")
    if log is not None:
        print(f"log: {args.record} ({log.ticks} ticks, seed {seed}; drivestack log info {args.record})")
    return compute_episode_metrics(episode)


def evaluate(args: argparse.Namespace) -> int:
    _positive("--episodes", args.episodes)
    _positive("--workers", args.workers)
    suite = load_suite(args.suite)
    scenarios = dict(suite.scenarios)
    if args.scenarios:
        wanted = [s.strip() for s in args.scenarios.split(",") if s.strip()]
        scenarios = {s: scenarios.get(s, args.episodes or 1) for s in wanted}
    planners = [p.strip() for p in args.planners.split(",")] if args.planners else list(suite.planners)
    jobs = []
    for scen, n in scenarios.items():
        # idm drives highway-env's own vehicle model, blind to any world model: run it once, on ground truth
        setups = [build_setup(scen, p, wm, args.overrides, args.policy) for wm in suite.world_models for p in planners
                  if p != "idm"]
        if "idm" in planners:
            setups.append(build_setup(scen, "idm", "ground_truth", args.overrides))
        seeds = list(range(suite.seed_start, suite.seed_start + (args.episodes or n)))
        jobs += suite_jobs(setups, seeds)
    episodes = run_jobs(jobs, args.workers or default_workers(), "evaluate")
    return _report(episodes, args.json, {"suite": args.suite, "planners": planners, "scenarios": scenarios})


def bench(args: argparse.Namespace) -> int:
    _positive("--repeats", args.repeats)
    setup = build_setup(args.scenario, args.planner, args.world_model, args.overrides, args.policy)
    result = run_bench(setup, args.repeats, args.seed)
    print(format_bench(result))
    if args.json is not None:
        write_json(args.json, result)
        print(f"json: {args.json}")
    return 0


def bench_rl(args: argparse.Namespace) -> int:
    from sim.bench.rl import format_rl_bench, run_rl_bench
    from sim.rl.train import scenario_of
    from sim.loop.world_sources import WORLD_SOURCES

    _positive("--steps", args.steps)
    _positive("--repeats", args.repeats)
    models = [m.strip() for m in args.world_models.split(",") if m.strip()]
    unknown = [m for m in models if m not in WORLD_SOURCES]
    if not models or unknown:
        raise ValueError(f"unknown world model '{(unknown or [''])[0]}'; valid: {', '.join(sorted(WORLD_SOURCES))}")
    result = run_rl_bench(scenario_of(args.env), models, args.steps, args.repeats, args.seed, args.overrides)
    print(format_rl_bench(result))
    if args.json is not None:
        write_json(args.json, result)
        print(f"json: {args.json}")
    return 0


def _split_sensor_overrides(overrides: list[str]) -> tuple[list[str], list[str]]:
    sensors = [o.split(".", 1)[1] for o in overrides if o.startswith("sensors.")]
    return [o for o in overrides if not o.startswith("sensors.")], sensors


def render_sensors(args: argparse.Namespace) -> int:
    from sim.dataset.render import render_sensors as render
    from sim.sensors.rig import load_rig

    _positive("--ticks", args.ticks)
    others, sensor_overrides = _split_sensor_overrides(args.overrides)
    setup = build_setup(args.scenario, "rule", "ground_truth", others)
    for path in render(setup, load_rig(args.rig, sensor_overrides), args.seed, args.ticks, args.out):
        print(path)
    return 0


def datagen(args: argparse.Namespace) -> int:
    from sim.dataset.datagen import DatagenConfig, generate
    from sim.highway.scenarios import scenario_names
    from sim.sensors.rig import load_rig

    _positive("--frames", args.frames)
    _positive("--frames-per-episode", args.frames_per_episode)
    _positive("--workers", args.workers)
    scenarios = tuple(s.strip() for s in args.scenarios.split(",") if s.strip())
    unknown = [s for s in scenarios if s not in scenario_names()]
    if not scenarios or unknown:
        raise ValueError(f"unknown scenario '{(unknown or [''])[0]}'; valid: {', '.join(scenario_names())}")
    cfg = DatagenConfig(scenarios, args.frames, args.seed, args.frames_per_episode)
    manifest = generate(cfg, load_rig(args.rig), args.out, args.workers or default_workers())
    print(f"{len(manifest['frames'])} frames in {args.out} ({', '.join(f'{k}: {v}' for k, v in manifest['counts'].items())})")
    return 0


def train(args: argparse.Namespace) -> int:
    if args.model == "policy":
        return _train_policy(args)
    if args.data is None:
        raise ValueError(f"train --model {args.model} needs --data DIR (written by drivestack datagen)")
    from perception.train_camera import train_camera
    from perception.train_lidar import train_lidar
    from perception.training import TrainConfig

    _positive("--epochs", args.epochs)
    _positive("--batch-size", args.batch_size)
    _positive("--patience", args.patience)
    lr = args.lr if args.lr is not None else {"lidar": 3e-3, "camera": 1e-3}[args.model]
    out = args.out or Path("runs") / args.model
    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=lr, seed=args.seed, device=args.device,
                      max_train_frames=args.max_train_frames, patience=args.patience,
                      init_weights=args.init_weights)
    result = {"lidar": train_lidar, "camera": train_camera}[args.model](args.data, out, cfg, resume=args.resume)
    print(f"best validation AP@2m {result['best_val_ap_2m']:.3f} after {result['epochs']} epochs, "
          f"{result['wall_s'] / 60:.1f} min; weights: {out / 'best.pt'}")
    return 0


def _train_policy(args: argparse.Namespace) -> int:
    from sim.rl.train import PolicyTrainSettings, scenario_of, train_policy

    _positive("--timesteps", args.timesteps)
    _positive("--n-envs", args.n_envs)
    _positive("--eval-episodes", args.eval_episodes)
    scenario_of(args.env)
    out = args.out or Path("runs") / f"policy_{args.algo}"
    settings = PolicyTrainSettings(args.algo, args.env, args.world_model, args.timesteps, args.n_envs, args.seed, out,
                                   args.eval_freq, args.eval_episodes, args.eval_freq, args.resume,
                                   "cpu" if args.device == "auto" else args.device, tuple(args.overrides))
    s = train_policy(settings)
    best = s["best_eval"] or s["final_eval"]
    print(f"{s['timesteps']} steps in {s['wall_s'] / 60:.1f} min ({s['steps_per_s']:.1f} steps/s); best validation: "
          f"collisions {best['collision_rate']:.0%}, speed {best['mean_speed_mps']:.2f} m/s; "
          f"policy: {out / 'best_model.zip'}")
    return 0


def evaluate_perception(args: argparse.Namespace) -> int:
    from perception.report import evaluate_model, format_report

    _positive("--max-frames", args.max_frames)
    result = evaluate_model(args.model, args.data, args.split, args.max_frames, args.ground_truth)
    print(format_report(result))
    if args.json is not None:
        write_json(args.json, {**result, "ap": {str(k): v for k, v in result["ap"].items()},
                               "ap_by_range": {b: {str(k): v for k, v in d.items()} for b, d in result["ap_by_range"].items()}})
        print(f"json: {args.json}")
    return 0


def evaluate_tracking(args: argparse.Namespace) -> int:
    from sim.evaluation.tracking import TrackingJob, combine, format_tracking, track_episode

    _positive("--episodes", args.episodes)
    _positive("--workers", args.workers)
    setup = build_setup(args.scenario, "rule", "ground_truth", args.overrides)
    jobs = [TrackingJob(setup, s) for s in range(args.seed, args.seed + args.episodes)]
    accs = run_parallel(track_episode, jobs, args.workers or default_workers(), "evaluate-tracking", "episode")
    results = {name: combine([a[name].summary() for a in accs]) for name in accs[0]}
    print(format_tracking(results, len(jobs), args.scenario))
    if args.json is not None:
        write_json(args.json, {"scenario": args.scenario, "seeds": [args.seed, args.seed + args.episodes],
                               "results": results})
    return 0


def fit_surrogate(args: argparse.Namespace) -> int:
    import yaml

    from perception.surrogate_fit import fit_surrogate as fit
    from sim.loop.perception_world import SURROGATE_FILE
    from sim.loop.setup import load_perception_config

    _positive("--max-frames", args.max_frames)
    threshold = load_perception_config([]).score_threshold
    detectors = tuple(d.strip() for d in args.detectors.split(",") if d.strip())
    models = fit(args.data, args.split, detectors, threshold, args.max_frames)
    out = args.out or SURROGATE_FILE
    header = (f"# Surrogate detector error models, fitted by: drivestack fit-surrogate --data {args.data} "
              f"--split {args.split} --detectors {args.detectors}\n# score threshold {threshold}; per range bin "
              f"(range_edges_m): detection probability, centre error std along/across the ray, clutter per frame\n")
    out.write_text(header + yaml.safe_dump({"sensors": {n: m.to_dict() for n, m in models.items()}}, sort_keys=False))
    for name, m in models.items():
        print(f"{name}: p_detect {', '.join(f'{p:.2f}' for p in m.p_detect)}; along-ray std "
              f"{', '.join(f'{s:.2f}' for s in m.along_std_m)} m ({m.frames} frames)")
    print(f"written: {out}")
    return 0


def bench_perception(args: argparse.Namespace) -> int:
    from perception.bench import bench_detector

    for name in ("--batch", "--frames", "--threads", "--repeats"):
        _positive(name, getattr(args, name[2:]))
    r = bench_detector(args.model, args.data, args.weights, args.device, args.batch, args.frames, args.threads, args.bf16,
                       args.repeats)
    print(f"{args.model} detector on {r['device']} ({r['threads']} threads, bf16 {r['bf16']}, {r['machine']}): "
          f"median {r['latency_ms_median']:.1f} ms/frame at batch 1 over {r['frames']} frames "
          f"(passes: {', '.join(f'{v:.1f}' for v in r['latency_ms_runs'])} ms), "
          f"{r['frames_per_s']:.1f} frames/s at batch {r['batch']}")
    if args.json is not None:
        write_json(args.json, r)
    return 0


def bench_sensors(args: argparse.Namespace) -> int:
    from sim.bench.sensors import format_sensor_bench, run_sensor_bench
    from sim.sensors.rig import load_rig

    _positive("--ticks", args.ticks)
    _positive("--repeats", args.repeats)
    others, sensor_overrides = _split_sensor_overrides(args.overrides)
    setup = build_setup(args.scenario, "rule", "ground_truth", others)
    result = run_sensor_bench(setup, load_rig(args.rig, sensor_overrides), args.ticks, args.repeats, args.seed)
    print(format_sensor_bench(result))
    if args.json is not None:
        write_json(args.json, result)
        print(f"json: {args.json}")
    return 0


def _replay_options(args: argparse.Namespace, **extra):
    from sim.logs.replay_config import ReplayOptions

    _positive("--threads", args.threads)
    if not args.plan_horizon > 0:
        raise ValueError(f"--plan-horizon must be positive, got {args.plan_horizon}")
    weights = {name: str(path) for name, path in (("lidar", args.weights_lidar), ("camera", args.weights_camera))
               if path is not None}
    return ReplayOptions(tuple(args.overrides), weights, args.device, args.threads, args.plan_horizon,
                         policy_file=args.policy, **extra)


def _warn(issues) -> None:
    for issue in issues:
        sys.stderr.write(f"drivestack: warning: {issue}\n")


def replay(args: argparse.Namespace) -> int:
    """Exit 0, or 1 when ``--compare`` finds a difference above ``--tolerance``."""
    from sim.logs.replay import replay_log
    from sim.logs.report import format_replay

    if not args.tolerance >= 0:
        raise ValueError(f"--tolerance must be >= 0, got {args.tolerance}")
    result = replay_log(args.log, _replay_options(args, compare=args.compare, tolerance=args.tolerance, out=args.out))
    _warn(result.issues + result.config.notes)
    print(format_replay(result))
    if args.out is not None:
        print(f"replayed outputs: {args.out}")
    if args.json is not None:
        write_json(args.json, {"log": str(args.log), "ticks": result.ticks, "scores": result.scores,
                               "divergence": result.divergence, "comparison": result.comparison,
                               "output_sha256": result.output_sha256, "weights": result.weights,
                               "issues": list(result.issues), "notes": list(result.config.notes)})
    return 0 if result.comparison is None or result.comparison["passed"] else 1


def bench_replay(args: argparse.Namespace) -> int:
    from sim.bench.replay import format_replay_bench, run_replay_bench

    _positive("--repeats", args.repeats)
    result = run_replay_bench(args.log, _replay_options(args), args.repeats)
    print(format_replay_bench(result))
    if args.json is not None:
        write_json(args.json, result)
        print(f"json: {args.json}")
    return 0


def log(args: argparse.Namespace) -> int:
    from sim.logs.info import format_info, info_json, log_index

    index = log_index(args.log)
    print(format_info(index))
    if args.json is not None:
        write_json(args.json, info_json(index))
    return 0


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(jsonable(payload), indent=2, allow_nan=False))


def _report(episodes: list, json_path, meta: dict) -> int:
    rows = aggregate(episodes)
    print(format_table(rows))
    if json_path is not None:
        write_json(json_path, {**to_json(episodes, rows), "meta": meta})
        print(f"json: {json_path}")
    return 0
