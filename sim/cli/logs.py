"""Sensor logs: ``replay`` (re-run perception, fusion and the planner on a log; score, compare) and
``log info``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.common import (add_command, backend_of, diagnostics_verdict, interrupted, json_parent, output_file,
                            port_number, positive, print_result, workers_parent)
from sim.diagnostics import FAIL_ON
from sim.evaluation.metrics import write_json


def add_replay_options(p: argparse.ArgumentParser, threads: int | None = None) -> None:
    """Options shared by replay and bench-replay."""
    p.add_argument("--weights-lidar", type=Path, default=None, metavar="PATH",
                   help="lidar network weights (default: the shipped ones)")
    p.add_argument("--weights-camera", type=Path, default=None, metavar="PATH",
                   help="camera network weights (default: the shipped ones)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"], help="torch device")
    p.add_argument("--threads", type=int, default=threads,
                   help="torch CPU threads" + ("" if threads else " (default: torch's, as simulate)"))
    p.add_argument("--policy", default=None, help="policy file for a log driven by --planner rl (default: the recorded one)")
    p.add_argument("--plan-horizon", type=float, default=3.0, metavar="S",
                   help="seconds of plan over which the divergence from the recorded plan is measured")
    p.add_argument("--batch", type=int, default=16, metavar="TICKS",
                   help="frames per detector call, run ahead of the tracker (1: tick by tick)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="sections perception, planner, controller; e.g. perception.detectors=[classical]")


def add_arguments(sub) -> None:
    r = add_command(sub, "replay", "re-run perception, fusion and the planner on a recorded log, or on every log of a "
                    "directory or glob (one task per log, one table); score, compare",
                    "drivestack replay out/run.mcap --compare", [json_parent("scores, divergence and comparison"),
                                                                workers_parent()])
    r.add_argument("log", type=Path, help="MCAP log written by simulate --record; or a directory or quoted glob of "
                   "logs, replayed on --backend with --workers")
    add_replay_options(r)
    r.add_argument("--compare", action="store_true",
                   help="diff the replayed outputs with the recorded ones tick by tick; exit 1 past --tolerance")
    r.add_argument("--tolerance", type=float, default=1e-3,
                   help="largest allowed difference per tick (m, rad, score, m^2 alike)")
    r.add_argument("--out", type=output_file(".mcap"), default=None, metavar="NEW.mcap", help="write the replayed outputs as a log")
    r.add_argument("--serve", action="store_true",
                   help="serve the log to Foxglove over WebSocket with playback control (play, pause, seek, "
                        "speed), re-running the stack at the requested time; until Ctrl-C")
    r.add_argument("--port", type=port_number, default=8765, help="--serve: port (0: any free port)")
    r.add_argument("--host", default="127.0.0.1", help="--serve: address to listen on (0.0.0.0: every interface)")
    r.add_argument("--fail-on", choices=FAIL_ON, default="never",
                   help="exit 1 when a runtime diagnostic of the replayed stack reaches this level (one log)")
    add_foreign_options(r)
    r.set_defaults(run=replay)
    lg = add_command(sub, "log", "inspect a recorded log", "drivestack log info out/run.mcap")
    lsub = lg.add_subparsers(dest="log_command", required=True, metavar="{info}", parser_class=sub._parser_class)
    li = add_command(lsub, "info", "topics, schemas, message counts, duration, metadata and damage "
                     "(exit 1 when the log is damaged, unfinished or from an interrupted run)",
                     "drivestack log info out/run.mcap", [json_parent("everything (metadata whole)")])
    li.add_argument("log", type=Path, help="MCAP log")
    add_foreign_options(li)
    li.set_defaults(run=log_info)


def add_foreign_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--topics", default=None, metavar="ROLE=TOPIC,...",
                   help="a log written by another tool: its topics by role, lidar=, camera=, pose= (e.g. "
                        "lidar=/points,camera=/image,pose=/odom); see docs/logs.md 'Foreign logs'")
    p.add_argument("--calib", type=Path, default=None, metavar="FILE.yaml",
                   help="with --topics: sensor calibration and sync tolerance (default: the default rig)")


def replay_options(args: argparse.Namespace, **extra):
    from sim.logs.replay_config import ReplayOptions

    positive("--threads", args.threads)
    positive("--batch", args.batch)
    if not args.plan_horizon > 0:
        raise ValueError(f"--plan-horizon must be positive, got {args.plan_horizon}")
    weights = {name: str(path) for name, path in (("lidar", args.weights_lidar), ("camera", args.weights_camera))
               if path is not None}
    return ReplayOptions(tuple(args.overrides), weights, args.device, args.threads, args.plan_horizon,
                         policy_file=args.policy, batch_ticks=args.batch, **extra)


def replay(args: argparse.Namespace) -> int:
    """Exit 0, or 1 when ``--compare`` finds a difference above ``--tolerance``."""
    from sim.logs.corpus import is_corpus
    from sim.logs.replay import replay_log
    from sim.logs.report import format_replay

    if not args.tolerance >= 0:
        raise ValueError(f"--tolerance must be >= 0, got {args.tolerance}")
    if _foreign(args):
        return _replay_foreign(args)
    if args.serve:
        return _serve(args)
    if is_corpus(str(args.log)):
        return _replay_corpus(args)
    if args.backend != "local" or args.workers is not None or args.address is not None:
        raise ValueError("--backend, --workers and --address spread a directory or glob of logs over workers; "
                         f"{args.log} is one log")
    result = replay_log(args.log, replay_options(args, compare=args.compare, tolerance=args.tolerance, out=args.out))
    for issue in result.issues + result.config.notes:
        sys.stderr.write(f"drivestack: warning: {issue}\n")
    print(format_replay(result))
    if args.out is not None:
        print(f"replayed outputs: {args.out}")
    if args.json is not None:
        write_json(args.json, {"log": str(args.log), "ticks": result.ticks, "scores": result.scores,
                               "divergence": result.divergence, "comparison": result.comparison,
                               "output_sha256": result.output_sha256, "weights": result.weights,
                               "issues": list(result.issues), "notes": list(result.config.notes),
                               "partial": result.partial, "diagnostics": result.diagnostics.to_json()})
    if result.partial:
        return interrupted(f"{result.ticks} of {result.index.ticks} ticks replayed", args.json)
    code = 0 if result.comparison is None or result.comparison["passed"] else 1
    return diagnostics_verdict(result.diagnostics, args.fail_on, code)


def _foreign(args: argparse.Namespace) -> bool:
    """Whether the log is a foreign one (``--topics``); ``--calib`` alone is a mistake."""
    if args.calib is not None and args.topics is None:
        raise ValueError("--calib describes the sensors of a foreign log; give its topics with --topics too")
    return args.topics is not None


def _replay_foreign(args: argparse.Namespace) -> int:
    from sim.logs.corpus import is_corpus
    from sim.logs.foreign_config import parse_topics
    from sim.logs.foreign_replay import format_summary, format_ticks, outputs_json, replay_foreign
    from sim.logs.report import format_replay

    given = [flag for flag, on in (("--compare", args.compare), ("--serve", args.serve),
                                   ("--out", args.out is not None)) if on]
    if given:
        raise ValueError(f"{', '.join(given)} cannot be used with a foreign log (--topics)")
    if is_corpus(str(args.log)):
        raise ValueError(f"--topics maps the topics of one log; {args.log} is a corpus of logs")
    topics = parse_topics(args.topics)
    run = replay_foreign(args.log, topics, args.calib, replay_options(args))
    result = run.result
    for issue in result.issues + result.config.notes:
        sys.stderr.write(f"drivestack: warning: {issue}\n")
    print(format_summary(run.summary))
    print(format_replay(result))
    print(format_ticks(run.ticks))
    if args.json is not None:
        write_json(args.json, {"log": str(args.log), "topics": args.topics, "ticks": result.ticks,
                               "scores": result.scores, "per_tick": outputs_json(run.ticks),
                               "notes": list(run.summary.notes) + list(result.config.notes),
                               "issues": list(result.issues), "output_sha256": result.output_sha256,
                               "partial": result.partial, "diagnostics": result.diagnostics.to_json()})
    if result.partial:
        return interrupted(f"{result.ticks} of {result.index.ticks} ticks replayed", args.json)
    return diagnostics_verdict(result.diagnostics, args.fail_on, 0)


def _serve(args: argparse.Namespace) -> int:
    """``replay --serve``: the player until Ctrl-C (exit 0)."""
    from sim.live.playback import LogPlayer
    from sim.logs.corpus import is_corpus

    given = [flag for flag, on in (("--compare", args.compare), ("--out", args.out is not None), ("--json", args.json),
                                   ("--fail-on", args.fail_on != "never")) if on]
    if given:
        raise ValueError(f"--serve plays the log to a viewer; {', '.join(given)} are for a batch replay")
    if is_corpus(str(args.log)):
        raise ValueError(f"--serve plays one log; {args.log} is a corpus of logs")
    player = LogPlayer(args.log, replay_options(args, progress=False), args.host, args.port)
    print(f"serving {args.log} ({len(player.ticks)} ticks) to Foxglove at ws://{args.host}:{player.port} with "
          "playback control; Ctrl-C stops", flush=True)
    try:
        player.run()
    except KeyboardInterrupt:
        pass
    return 0


def _replay_corpus(args: argparse.Namespace) -> int:
    """Every log of a directory or glob, one task each: one table; exit 1 if any log fails or errs."""
    from sim.backends import Interrupted
    from sim.logs.corpus import corpus_passed, find_logs, format_corpus, replay_corpus

    if args.out is not None:
        raise ValueError(f"--out writes one log's replayed outputs; {args.log} is a corpus of logs")
    if args.fail_on != "never":
        raise ValueError(f"--fail-on checks one log's diagnostics; {args.log} is a corpus of logs")
    backend = backend_of(args)
    logs = find_logs(str(args.log))
    options = replay_options(args, compare=args.compare, tolerance=args.tolerance)
    try:
        rows, partial = replay_corpus(logs, options, backend), False
    except Interrupted as stop:
        rows, partial = stop.results, True
    if rows:
        print(format_corpus(rows, str(args.log)))
    if args.json is not None:
        write_json(args.json, {"logs": rows, "passed": corpus_passed(rows), "partial": partial})
    if partial:
        return interrupted(f"{len(rows)} of {len(logs)} logs replayed", args.json)
    return 0 if corpus_passed(rows) else 1


def log_info(args: argparse.Namespace) -> int:
    from sim.logs.info import format_info, info_json, log_index, whole

    index = log_index(args.log)
    if _foreign(args):
        from sim.logs.foreign import foreign_summary
        from sim.logs.foreign_config import parse_topics
        from sim.logs.foreign_replay import format_summary

        summary = foreign_summary(args.log, parse_topics(args.topics), args.calib)
        data = {**info_json(index), "mapped": {"ticks": summary.ticks, "dt_s": summary.dt_s, "notes": list(summary.notes),
                                               "topics": [r.__dict__ for r in summary.roles]}}
        code = print_result(format_info(index) + "\n" + format_summary(summary), args.json, data)
        return code if code else (0 if whole(index) else 1)
    code = print_result(format_info(index), args.json, info_json(index))
    return code if code else (0 if whole(index) else 1)
