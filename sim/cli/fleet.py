"""``train --labels pseudo`` and ``train --federated``: option checks, the federated run and the
model card each training writes beside its weights."""
from __future__ import annotations

import argparse
import csv
import json
import shlex
import sys
from pathlib import Path

from sim.cli.common import interrupted, positive
from sim.logs.provenance import SHIPPED_WEIGHTS


def teacher_path(teacher: str) -> Path:
    """``lidar``: the shipped lidar weights; otherwise a weights file, which must exist."""
    path = SHIPPED_WEIGHTS["lidar"] if teacher == "lidar" else Path(teacher)
    if not path.is_file():
        raise ValueError(f"--teacher: no lidar weights at {path}")
    return path


def student_path(student: str | None) -> Path | None:
    """Self-training: the student's camera weights file, which must exist (None: no student)."""
    if student is not None and not Path(student).is_file():
        raise ValueError(f"--student: no camera weights at {student}")
    return Path(student) if student is not None else None


def check_pseudo(args: argparse.Namespace) -> None:
    """One-line errors for option combinations that cannot work."""
    if args.labels == "pseudo" and args.model != "camera":
        raise ValueError("--labels pseudo trains the camera from the lidar teacher: use --model camera")
    if args.labels == "pseudo" and args.val_data is None:
        raise ValueError("--labels pseudo needs --val-data DIR: a labelled data set whose val split scores each epoch")
    if args.labels == "pseudo" and args.resume:
        raise ValueError("--labels pseudo does not support --resume")
    if args.val_data is not None and args.model == "lidar" and not args.federated:
        raise ValueError("--val-data is for camera or --federated training")
    if not 0.0 <= args.score_threshold <= 1.0:
        raise ValueError(f"--score-threshold must be in [0, 1], got {args.score_threshold}")
    if not 0.0 <= args.student_threshold <= 1.0:
        raise ValueError(f"--student-threshold must be in [0, 1], got {args.student_threshold}")
    if args.student is not None and args.labels != "pseudo":
        raise ValueError("--student is for self-training on pseudo-labels: add --labels pseudo")


DETECTOR_LR = {"lidar": 3e-3, "camera": 1e-3}
"""Default learning rate of detector training (``train``, ``--strategy pooled``); FedAvg/FedProx clients
default to twice it: K clients' parallel steps average to fewer sequential ones (measured for the lidar
in docs/fleet.md)."""


def train_federated(args: argparse.Namespace) -> int:
    from perception.federated import LearnerSpec, fleet, run_pooled
    from perception.flower import FederatedConfig, run_federated

    if args.labels == "pseudo" or args.resume or args.init_weights:
        raise ValueError("--federated trains from scratch on labelled shards: drop --labels pseudo, --resume, --init-weights")
    for flag in ("--clients", "--rounds", "--batch-size", "--max-train-frames"):
        positive(flag, getattr(args, flag[2:].replace("-", "_")))
    if not args.server_lr > 0:
        raise ValueError(f"--server-lr must be > 0, got {args.server_lr}")
    if not args.local_epochs > 0:
        raise ValueError(f"--local-epochs must be > 0, got {args.local_epochs}")
    if args.proximal_mu < 0:
        raise ValueError(f"--proximal-mu must be >= 0, got {args.proximal_mu}")
    spec = LearnerSpec(args.model, str(args.data), str(args.val_data or args.data), args.batch_size, args.seed,
                       "cpu" if args.device == "auto" else args.device)
    lr = args.lr if args.lr is not None else DETECTOR_LR[args.model] * (1 if args.strategy == "pooled" else 2)
    out = args.out or Path("runs") / f"{args.model}_{args.strategy}"
    shards = fleet(args.clients, args.model)
    try:
        if args.strategy == "pooled":
            result = run_pooled(spec, shards, max(1, round(args.rounds * args.local_epochs)), lr, out,
                                args.max_train_frames)
            history = _metrics(out / "metrics.csv")
        else:
            cfg = FederatedConfig(spec, shards, args.rounds, args.strategy, args.proximal_mu, args.local_epochs,
                                  args.keep_optimizer, lr, args.server_lr, args.pool_batchnorm, args.max_train_frames)
            result = run_federated(cfg, out)
            history = result["history"]
    except KeyboardInterrupt:
        return interrupted(f"the finished rounds' checkpoints are in {out}")
    summary = {"model": args.model, "strategy": args.strategy, "clients": [s.name for s in shards],
               "conditions": [s.condition for s in shards], "frames": result["frames"], "history": history,
               "best_val_ap_2m": result["best_val_ap_2m"], "wall_s": result["wall_s"],
               "skipped": result["ledger"].skipped if "ledger" in result else []}
    (out / "federated.json").write_text(json.dumps(summary, indent=1))
    print(f"best validation AP@2m {result['best_val_ap_2m']:.3f} ({args.strategy}, {len(shards)} clients), "
          f"{result['wall_s'] / 60:.1f} min; weights: {out / 'best.pt'} (card: {write_card(out, args, result)})")
    return 0


def _metrics(path: Path) -> list[dict]:
    with open(path) as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def write_card(out: Path, args: argparse.Namespace, result: dict) -> Path:
    """``OUT/best.md``: how these weights were made (the exact command) and how they validated."""
    rows = _metrics(out / "metrics.csv") if (out / "metrics.csv").exists() else []
    key = "round" if args.federated and args.strategy != "pooled" else "epoch"
    teacher = "the shipped lidar.pt" if args.teacher == "lidar" else args.teacher
    labels = (f"pseudo-labels from the lidar teacher ({teacher}, score >= {args.score_threshold}); no simulator "
              "label read" if args.labels == "pseudo" else "ground truth")
    if args.student is not None:
        from perception.pseudo_labels import PseudoLabelConfig
        labels += (f", plus the student's ({args.student}) boxes beyond {PseudoLabelConfig.student_min_range_m:g} m "
                   f"scoring >= {args.student_threshold}")
    lines = [f"# Model card: {args.model} detector (`{out / 'best.pt'}`)", "",
             f"- **Made by**: `drivestack {' '.join(shlex.quote(a) for a in sys.argv[1:])}`",
             f"- **Training labels**: {labels}; data `{args.data}`"
             + (f", validation on `{args.val_data}`" if args.val_data else ""),
             f"- **Validation AP@2m by {key}**: " + ", ".join(f"{r['val_ap_2m']:.3f}" for r in rows),
             f"- **Best**: {result['best_val_ap_2m']:.3f}; {result['wall_s'] / 60:.1f} min",
             f"- **Use**: `drivestack evaluate-perception --model {args.model} --weights {out / 'best.pt'} --data DIR`, "
             f"`drivestack simulate --world-model perception --set perception.{args.model}_weights={out / 'best.pt'}`, "
             f"`drivestack replay LOG --weights-{args.model} {out / 'best.pt'}`"]
    if args.federated:
        lines.insert(4, f"- **Fleet**: {args.clients} clients, strategy {args.strategy}"
                     + (f" (mu {args.proximal_mu})" if args.strategy == "fedprox" else "")
                     + f", {args.rounds} rounds x {args.local_epochs:g} local epochs"
                     + (", clients keep their optimiser state" if args.keep_optimizer else "")
                     + (f", server learning rate {args.server_lr:g}" if args.server_lr != 1.0 else "")
                     + (", pooled BatchNorm statistics" if args.pool_batchnorm else "")
                     + f", frames per client {result['frames']}")
    path = out / "best.md"
    path.write_text("\n".join(lines) + "\n")
    return path
