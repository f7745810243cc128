"""The ``drivestack`` command line: simulate, evaluate, bench."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"drivestack: error: {message}\n")
        sys.exit(2)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override any config key, e.g. planner.horizon_s=6 or scenario.env.vehicles_count=30")
    p.add_argument("--workers", type=int, default=None, help="parallel worker processes (default: CPU count)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="drivestack", description="Closed-loop autonomous-driving stack on highway-env.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sim = sub.add_parser("simulate", help="run closed-loop episodes and print driving metrics")
    sim.add_argument("--scenario", default="highway")
    sim.add_argument("--planner", default="rule")
    sim.add_argument("--world-model", default="ground_truth")
    sim.add_argument("--policy", default=None,
                     help="trained policy file for --planner rl (default: the shipped planning/policies/highway_dqn.zip)")
    sim.add_argument("--episodes", type=int, default=1)
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--video", type=Path, default=None, help="write an MP4 of the first episode")
    sim.add_argument("--json", type=Path, default=None, help="write per-episode and aggregate metrics")
    sim.add_argument("--camera-view", action=argparse.BooleanOptionalAction, default=True,
                     help="show the simulated front camera beside the top-down view in the video")
    sim.add_argument("--rig", default="default", help="sensor rig for --camera-view (configs/sensors)")
    sim.add_argument("--record", type=Path, default=None, metavar="LOG.mcap",
                     help="record every tick of the first episode to an MCAP log (sensors, ground truth, outputs)")
    _common(sim)
    ev = sub.add_parser("evaluate", help="run a suite (scenarios x planners x seeds) and print one table")
    ev.add_argument("--suite", default="default", help="suite name in configs/evaluate or a YAML path")
    ev.add_argument("--scenarios", default=None, help="comma-separated subset of the suite's scenarios")
    ev.add_argument("--planners", default=None, help="comma-separated planners (overrides the suite)")
    ev.add_argument("--episodes", type=int, default=None, help="episodes per scenario (overrides the suite)")
    ev.add_argument("--policy", default=None, help="trained policy file for the rl planner (default: the shipped one)")
    ev.add_argument("--json", type=Path, default=None)
    _common(ev)
    be = sub.add_parser("bench", help="closed-loop step time vs the bare highway-env step")
    be.add_argument("--scenario", default="highway")
    be.add_argument("--planner", default="rule")
    be.add_argument("--world-model", default="ground_truth")
    be.add_argument("--policy", default=None, help="trained policy file for --planner rl (default: the shipped one)")
    be.add_argument("--repeats", type=int, default=3)
    be.add_argument("--seed", type=int, default=0)
    be.add_argument("--json", type=Path, default=None)
    be.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE")
    rs = sub.add_parser("render-sensors", help="save camera, depth, lidar BEV pictures and point clouds")
    rs.add_argument("--scenario", default="highway")
    rs.add_argument("--seed", type=int, default=0)
    rs.add_argument("--ticks", type=int, default=30, help="closed-loop ticks to drive before rendering")
    rs.add_argument("--rig", default="default", help="sensor rig in configs/sensors")
    rs.add_argument("--out", type=Path, default=Path("out/sensors"))
    rs.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="sections: scenario, planner, controller, sensors")
    dg = sub.add_parser("datagen", help="generate labelled sensor frames (train/val/test split by seed)")
    dg.add_argument("--scenarios", default="highway,merge,roundabout,intersection,exit")
    dg.add_argument("--frames", type=int, default=1000, help="total number of frames")
    dg.add_argument("--seed", type=int, default=0, help="first episode seed; episodes use seed, seed+1, ...")
    dg.add_argument("--frames-per-episode", type=int, default=20)
    dg.add_argument("--rig", default="default")
    dg.add_argument("--out", type=Path, required=True)
    dg.add_argument("--workers", type=int, default=None)
    tr = sub.add_parser("train", help="train a detector on a datagen directory, or an RL driving policy")
    tr.add_argument("--model", default="lidar", choices=["lidar", "camera", "policy"])
    tr.add_argument("--data", type=Path, default=None, help="datagen directory (detectors)")
    tr.add_argument("--out", type=Path, default=None, help="default: runs/MODEL")
    tr.add_argument("--epochs", type=int, default=10)
    tr.add_argument("--batch-size", type=int, default=8)
    tr.add_argument("--lr", type=float, default=None, help="default: 3e-3 (lidar), 1e-3 (camera)")
    tr.add_argument("--max-train-frames", type=int, default=None)
    tr.add_argument("--init-weights", default=None, help="fine-tune from this checkpoint (camera)")
    tr.add_argument("--patience", type=int, default=3, help="stop after this many epochs without a better val AP")
    tr.add_argument("--device", default="auto", help="cpu, cuda or auto")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--resume", action="store_true",
                    help="continue from OUT/last.pt (detectors) or the newest OUT/checkpoints (policy)")
    tr.add_argument("--algo", default="dqn", choices=["dqn", "ppo"], help="policy: SB3 algorithm")
    tr.add_argument("--env", default="drivestack/Highway-v0", help="policy: env id or scenario name")
    tr.add_argument("--world-model", default="surrogate", help="policy: ground_truth, surrogate or perception")
    tr.add_argument("--timesteps", type=int, default=25_000, help="policy: decisions (env steps) to train for")
    tr.add_argument("--n-envs", type=int, default=2, help="policy: parallel environments (SubprocVecEnv)")
    tr.add_argument("--eval-freq", type=int, default=5_000, help="policy: evaluate and checkpoint every N steps")
    tr.add_argument("--eval-episodes", type=int, default=4, help="policy: validation episodes per evaluation")
    tr.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="policy: env.* (configs/rl/env.yaml), scenario.*, planner.*, perception.* ...")
    ep = sub.add_parser("evaluate-perception", help="detection AP (centre distance) of a detector on a data set")
    ep.add_argument("--model", default="classical")
    ep.add_argument("--data", type=Path, required=True, help="directory written by datagen")
    ep.add_argument("--split", default="test", choices=["train", "val", "test"])
    ep.add_argument("--max-frames", type=int, default=None)
    ep.add_argument("--ground-truth", default="auto", choices=["auto", "lidar", "camera", "any"],
                    help="which vehicles count: seen by the model's sensor (auto), by lidar, camera or either")
    ep.add_argument("--json", type=Path, default=None)
    et = sub.add_parser("evaluate-tracking", help="MOTA / IDF1 of the tracker per sensor set against ground truth")
    et.add_argument("--scenario", default="highway")
    et.add_argument("--episodes", type=int, default=10)
    et.add_argument("--seed", type=int, default=0, help="first seed (data sets for training use 1000+)")
    et.add_argument("--json", type=Path, default=None)
    _common(et)
    fs = sub.add_parser("fit-surrogate", help="fit the surrogate world model's detector error models on a data set")
    fs.add_argument("--data", type=Path, required=True, help="directory written by datagen")
    fs.add_argument("--split", default="val", choices=["train", "val", "test"])
    fs.add_argument("--detectors", default="lidar,camera")
    fs.add_argument("--max-frames", type=int, default=None)
    fs.add_argument("--out", type=Path, default=None, help="default: configs/surrogate.yaml")
    bp = sub.add_parser("bench-perception", help="detector latency (batch 1) and throughput at a larger batch")
    bp.add_argument("--model", default="lidar", choices=["lidar", "camera"])
    bp.add_argument("--data", type=Path, required=True)
    bp.add_argument("--weights", type=Path, default=None)
    bp.add_argument("--device", default="cpu")
    bp.add_argument("--batch", type=int, default=32)
    bp.add_argument("--frames", type=int, default=128)
    bp.add_argument("--threads", type=int, default=2)
    bp.add_argument("--repeats", type=int, default=3, help="latency passes over the frames (median of their medians)")
    bp.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None)
    bp.add_argument("--json", type=Path, default=None)
    br = sub.add_parser("bench-rl", help="RL env steps/s per world model vs the bare highway-env step")
    br.add_argument("--env", default="drivestack/Highway-v0", help="env id or scenario name")
    br.add_argument("--world-models", default="surrogate,ground_truth")
    br.add_argument("--steps", type=int, default=100, help="env steps (decisions) per repeat")
    br.add_argument("--repeats", type=int, default=3)
    br.add_argument("--seed", type=int, default=0)
    br.add_argument("--json", type=Path, default=None)
    br.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE")
    bs = sub.add_parser("bench-sensors", help="camera and lidar generation time vs the bare highway-env step")
    bs.add_argument("--scenario", default="highway")
    bs.add_argument("--rig", default="default")
    bs.add_argument("--ticks", type=int, default=100)
    bs.add_argument("--repeats", type=int, default=3)
    bs.add_argument("--seed", type=int, default=0)
    bs.add_argument("--json", type=Path, default=None)
    bs.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE")
    _log_parsers(sub)
    return parser


def _log_parsers(sub) -> None:
    rp = sub.add_parser("replay", help="re-run perception, fusion and the planner on a recorded log; score, compare")
    rp.add_argument("log", type=Path, help="MCAP log written by simulate --record")
    _replay_options(rp)
    rp.add_argument("--compare", action="store_true",
                    help="diff the replayed outputs with the recorded ones tick by tick; exit 1 past --tolerance")
    rp.add_argument("--tolerance", type=float, default=1e-3,
                    help="largest allowed difference per tick (m, rad, score, m^2 alike)")
    rp.add_argument("--out", type=Path, default=None, metavar="NEW.mcap", help="write the replayed outputs as a log")
    rp.add_argument("--json", type=Path, default=None)
    br = sub.add_parser("bench-replay", help="replay ticks/s as a multiple of the recording rate, time per phase")
    br.add_argument("log", type=Path)
    _replay_options(br, threads=2)
    br.add_argument("--repeats", type=int, default=3)
    br.add_argument("--json", type=Path, default=None)
    lg = sub.add_parser("log", help="inspect a recorded log")
    lsub = lg.add_subparsers(dest="log_command", required=True, metavar="{info}", parser_class=_Parser)
    li = lsub.add_parser("info", help="topics, schemas, message counts, duration, metadata and damage")
    li.add_argument("log", type=Path)
    li.add_argument("--json", type=Path, default=None, help="also write everything (metadata whole) as JSON")


def _replay_options(p: argparse.ArgumentParser, threads: int | None = None) -> None:
    p.add_argument("--weights-lidar", type=Path, default=None, metavar="PATH",
                   help="lidar network weights (default: the shipped ones)")
    p.add_argument("--weights-camera", type=Path, default=None, metavar="PATH",
                   help="camera network weights (default: the shipped ones)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    p.add_argument("--threads", type=int, default=threads,
                   help="torch CPU threads" + (f" (default {threads})" if threads else " (default: torch's, as simulate)"))
    p.add_argument("--policy", default=None, help="policy file for a log driven by --planner rl (default: the recorded one)")
    p.add_argument("--plan-horizon", type=float, default=3.0, metavar="S",
                   help="seconds of plan over which the divergence from the recorded plan is measured")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="sections perception, planner, controller; e.g. perception.detectors=[classical]")


def main(argv: list[str] | None = None) -> int:
    if os.environ.get("SDL_VIDEODRIVER", "dummy") == "dummy":
        os.environ["SDL_VIDEODRIVER"] = "offscreen"  # highway-env renders black frames under 'dummy'
    args = build_parser().parse_args(argv)
    try:
        from sim.cli import commands
        return getattr(commands, args.command.replace("-", "_"))(args)
    except (ValueError, FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        sys.stderr.write(f"drivestack: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("drivestack: interrupted\n")
        return 130
    except BrokenPipeError:  # the output went into a pipe that closed early (e.g. `| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


__all__ = ["build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
