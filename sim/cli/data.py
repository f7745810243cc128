"""Perception data and models: ``datagen``, ``render-sensors``, ``evaluate-perception`` and
``fit-surrogate``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from perception.registry import DETECTORS
from sim.cli.common import (add_command, add_runtime_options, backend_of, choice, interrupted, json_parent, names,
                            output_dir, output_file, positive, print_result, runtime_options, seed_parent, set_parent,
                            valid, workers_parent)
from sim.highway.scenarios import SCENARIOS
from sim.sensors.rig import RIGS


def add_arguments(sub) -> None:
    r = add_command(sub, "render-sensors", "save camera, depth, lidar BEV pictures and point clouds",
                    "drivestack render-sensors --scenario roundabout --seed 1 --ticks 25 --out out/sensors/roundabout",
                    [seed_parent(what="episode seed"), set_parent("scenario, planner, controller, sensors")])
    r.add_argument("--scenario", default="highway", type=choice(SCENARIOS, paths=True), metavar=valid(SCENARIOS),
                   help="scenario")
    r.add_argument("--ticks", type=int, default=30, help="closed-loop ticks to drive before rendering")
    r.add_argument("--rig", default="default", type=choice(RIGS), metavar=valid(RIGS), help="sensor rig")
    r.add_argument("--out", type=output_dir, default=Path("out/sensors"), help="output directory")
    r.set_defaults(run=render_sensors)
    d = add_command(sub, "datagen", "generate labelled sensor frames (train/val/test split by episode seed)",
                    "drivestack datagen --frames 3000 --frames-per-episode 20 --seed 1000 --out data/ds1",
                    [seed_parent(what="first episode seed; episodes use SEED, SEED+1, ..."), workers_parent()])
    d.add_argument("--scenarios", default=",".join(SCENARIOS.names()), help="comma-separated scenarios to mix")
    d.add_argument("--frames", type=int, default=1000, help="total number of frames")
    d.add_argument("--frames-per-episode", type=int, default=20, help="frames saved per episode")
    d.add_argument("--rig", default="default", type=choice(RIGS), metavar=valid(RIGS), help="sensor rig")
    d.add_argument("--out", type=output_dir, required=True, help="output directory")
    d.add_argument("--unlabelled", action="store_true",
                   help="store sensor data only: no labels, depth or instance masks (for --labels pseudo training)")
    d.set_defaults(run=datagen)
    e = add_command(sub, "evaluate-perception", "detection AP (centre distance) of a detector on a data set",
                    "drivestack evaluate-perception --model lidar --data data/ds1 --split test",
                    [json_parent("AP by distance threshold and range bin")])
    e.add_argument("--model", default="classical", type=choice(DETECTORS), metavar=valid(DETECTORS), help="detector")
    e.add_argument("--data", type=Path, required=True, help="directory written by datagen")
    e.add_argument("--split", default="test", choices=["train", "val", "test"], help="data split")
    e.add_argument("--max-frames", type=int, default=None, help="evaluate at most this many frames")
    e.add_argument("--ground-truth", default="auto", choices=["auto", "lidar", "camera", "any"],
                   help="which vehicles count: seen by the model's sensor (auto), by lidar, camera or either")
    add_runtime_options(e)
    e.add_argument("--weights", type=Path, default=None, help="network weights (default: the shipped ones)")
    e.set_defaults(run=evaluate_perception)
    x = add_command(sub, "export-onnx", "export a detector network to ONNX (fp32 into the cache; int8 beside the weights)",
                    "drivestack export-onnx --model camera --int8 --data data/ds1 --split val --frames 64")
    x.add_argument("--model", default="camera", choices=["lidar", "camera"], help="detector network")
    x.add_argument("--weights", type=Path, default=None, help="network weights (default: the shipped ones)")
    x.add_argument("--int8", action="store_true", help="also make the static int8 QDQ model, calibrated on --data")
    x.add_argument("--data", type=Path, default=None, help="datagen directory with the calibration frames")
    x.add_argument("--split", default="val", choices=["train", "val", "test"], help="calibration split")
    x.add_argument("--frames", type=int, default=64, help="calibration frames")
    x.set_defaults(run=export_onnx)
    f = add_command(sub, "fit-surrogate", "fit the surrogate world model's detector error models on a data set",
                    "drivestack fit-surrogate --data data/ds1 --split val")
    f.add_argument("--data", type=Path, required=True, help="directory written by datagen")
    f.add_argument("--split", default="val", choices=["train", "val", "test"], help="data split to fit on")
    f.add_argument("--detectors", default="lidar,camera", help="comma-separated detectors")
    f.add_argument("--max-frames", type=int, default=None, help="use at most this many frames")
    f.add_argument("--out", type=output_file(".yaml"), default=None, help="output YAML (default: configs/surrogate.yaml)")
    f.set_defaults(run=fit_surrogate)


def render_sensors(args: argparse.Namespace) -> int:
    from sim.dataset.render import render_sensors as render
    from sim.loop.setup import build_setup

    positive("--ticks", args.ticks)
    setup = build_setup(args.scenario, "rule", "ground_truth", args.overrides, rig=args.rig)
    for path in render(setup, args.seed, args.ticks, args.out):
        print(path)
    return 0


def datagen(args: argparse.Namespace) -> int:
    from sim.backends import Interrupted
    from sim.dataset.datagen import DatagenConfig, generate
    from sim.sensors.rig import load_rig

    positive("--frames", args.frames)
    positive("--frames-per-episode", args.frames_per_episode)
    backend = backend_of(args)
    scenarios = SCENARIOS.check_all(names(args.scenarios))
    cfg = DatagenConfig(scenarios, args.frames, args.seed, args.frames_per_episode, labelled=not args.unlabelled)
    try:
        manifest = generate(cfg, load_rig(args.rig), args.out, backend)
    except Interrupted as stop:
        frames = sum(len(rows) for rows in stop.results)
        kept = f", {frames} frames in {args.out / 'manifest.json'} (partial)" if stop.results else ""
        return interrupted(f"{len(stop.results)} episodes finished{kept}")
    print(f"{len(manifest['frames'])} frames in {args.out} ({', '.join(f'{k}: {v}' for k, v in manifest['counts'].items())})")
    return 0


def evaluate_perception(args: argparse.Namespace) -> int:
    from perception.report import evaluate_model, format_report

    positive("--max-frames", args.max_frames)
    options = runtime_options(args)
    result = evaluate_model(args.model, args.data, args.split, args.max_frames, args.ground_truth, **options)
    payload = {**result, "ap": {str(k): v for k, v in result["ap"].items()},
               "ap_by_range": {b: {str(k): v for k, v in d.items()} for b, d in result["ap_by_range"].items()}}
    return print_result(format_report(result), args.json, payload)


def export_onnx(args: argparse.Namespace) -> int:
    from perception.onnx_export import export_onnx as export
    from sim.logs.provenance import SHIPPED_WEIGHTS

    positive("--frames", args.frames)
    weights = args.weights or SHIPPED_WEIGHTS[args.model]
    for precision, path in export(args.model, weights, args.data, args.split, args.frames, args.int8).items():
        print(f"{precision}: {path}")
    return 0


def fit_surrogate(args: argparse.Namespace) -> int:
    import yaml

    from perception.surrogate_fit import fit_surrogate as fit
    from sim.loop.setup import load_perception_config
    from sim.loop.world_sources import SURROGATE_FILE

    positive("--max-frames", args.max_frames)
    threshold = load_perception_config([]).score_threshold
    detectors = DETECTORS.check_all(names(args.detectors))
    models = fit(args.data, args.split, detectors, threshold, args.max_frames)
    out = args.out or SURROGATE_FILE
    header = (f"# Surrogate detector error models, fitted by: drivestack fit-surrogate --data {args.data} "
              f"--split {args.split} --detectors {args.detectors}\n# score threshold {threshold}; per range bin "
              f"(range_edges_m): detection probability, centre error std along/across the ray, clutter per frame\n")
    out.write_text(header + yaml.safe_dump({"sensors": {n: m.to_dict() for n, m in models.items()}}, sort_keys=False))
    thin = [f"{name} {', '.join(m.thin_bins())}" for name, m in models.items() if m.thin_bins()]
    if thin:
        frames = next(iter(models.values())).frames
        sys.stderr.write(f"drivestack: warning: fit-surrogate: fewer than 30 labelled boxes per range bin in {frames} "
                         f"frames ({'; '.join(thin)}): those bins' fitted values are unreliable; use more frames\n")
    for name, m in models.items():
        print(f"{name}: p_detect {', '.join(f'{p:.2f}' for p in m.p_detect)}; along-ray std "
              f"{', '.join(f'{s:.2f}' for s in m.along_std_m)} m ({m.frames} frames)")
    print(f"written: {out}")
    return 0
