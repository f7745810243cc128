"""``train``: the detector networks on a datagen directory, or an RL driving policy with SB3."""
from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.common import (add_command, choice, interrupted, json_parent, output_dir, positive, seed_parent,
                            set_parent, valid)
from sim.config import CONFIG_DIR
from sim.loop.world_sources import WORLD_SOURCES


def add_arguments(sub) -> None:
    t = add_command(sub, "train", "train a detector on a datagen directory, or an RL driving policy",
                    "drivestack train --model lidar --data data/ds1 --out runs/lidar --epochs 6",
                    [seed_parent(what="training seed"),
                     set_parent("policy: env (configs/rl/env.yaml), scenario, planner, perception, sensors")])
    t.add_argument("--model", default="lidar", choices=["lidar", "camera", "policy"], help="what to train")
    t.add_argument("--data", type=Path, default=None, help="datagen directory (detectors)")
    t.add_argument("--out", type=output_dir, default=None, help="output directory (default: runs/MODEL)")
    t.add_argument("--epochs", type=int, default=10, help="detectors: training epochs")
    t.add_argument("--batch-size", type=int, default=8, help="detectors: frames per batch")
    t.add_argument("--lr", type=float, default=None,
                   help="detectors: learning rate (default: 3e-3 lidar, 1e-3 camera; federated clients twice that)")
    t.add_argument("--max-train-frames", type=int, default=None, help="detectors: use at most this many training frames")
    t.add_argument("--init-weights", default=None, help="detectors: fine-tune from this checkpoint (camera)")
    t.add_argument("--patience", type=int, default=3, help="detectors: stop after this many epochs without a better val AP")
    t.add_argument("--device", default="auto", choices=["cpu", "cuda", "auto"], help="torch device")
    t.add_argument("--resume", action="store_true",
                   help="continue from OUT/last.pt (detectors) or the newest OUT/checkpoints (policy)")
    t.add_argument("--labels", default="gt", choices=["gt", "pseudo"],
                   help="camera: ground truth, or pseudo-labels from --teacher on (unlabelled) frames")
    t.add_argument("--teacher", default="lidar", help="pseudo labels: lidar detector weights ('lidar': the shipped ones)")
    t.add_argument("--score-threshold", type=float, default=0.3, help="pseudo labels: teacher boxes scoring below are dropped")
    t.add_argument("--student", default=None,
                   help="pseudo labels, self-training: camera weights whose confident boxes beyond the lidar's reach are added")
    t.add_argument("--student-threshold", type=float, default=0.5, help="self-training: student boxes scoring below are dropped")
    t.add_argument("--val-data", type=Path, default=None,
                   help="labelled datagen directory whose val split scores each epoch/round (default: --data)")
    t.add_argument("--federated", action="store_true", help="detectors: train on Flower's simulation engine")
    t.add_argument("--clients", type=int, default=5, help="federated: vehicle clients (non-IID shards)")
    t.add_argument("--rounds", type=int, default=8, help="federated: rounds")
    t.add_argument("--local-epochs", type=float, default=1.0,
                   help="federated: passes over its shard each client makes per round (a fraction: more, shorter rounds)")
    t.add_argument("--server-lr", type=float, default=1.0,
                   help="federated: server step along the clients' mean update (1: plain FedAvg/FedProx averaging)")
    t.add_argument("--pool-batchnorm", action="store_true",
                   help="federated: BatchNorm statistics of all clients' data together (mixture variance), not their plain mean")
    t.add_argument("--keep-optimizer", action="store_true",
                   help="federated: each client keeps its AdamW moments between rounds instead of restarting them")
    t.add_argument("--strategy", default="fedavg", choices=["fedavg", "fedprox", "pooled"],
                   help="federated: aggregation, or 'pooled': the clients' union trained centrally (baseline)")
    t.add_argument("--proximal-mu", type=float, default=0.01, help="fedprox: weight of the proximal term")
    t.add_argument("--algo", default="dqn", choices=["dqn", "ppo", "maskable_ppo"],
                   help="policy: SB3 algorithm (maskable_ppo: sb3-contrib, never picks a masked behaviour)")
    t.add_argument("--env", default="drivestack/Highway-v0", help="policy: env id or scenario name")
    t.add_argument("--world-model", default="surrogate", type=choice(WORLD_SOURCES), metavar=valid(WORLD_SOURCES),
                   help="policy: what the policy sees")
    t.add_argument("--timesteps", type=int, default=25_000, help="policy: decisions (env steps) to train for")
    t.add_argument("--n-envs", type=int, default=2, help="policy: parallel environments (SubprocVecEnv)")
    t.add_argument("--eval-freq", type=int, default=5_000, help="policy: evaluate and checkpoint every N steps")
    t.add_argument("--eval-episodes", type=int, default=4, help="policy: validation episodes per evaluation")
    t.set_defaults(run=train)
    u = add_command(sub, "tune", "sweep RL policy trainings on Ray Tune (grid/random search, ASHA early stopping); "
                    "a ranked table and the best policy with its card",
                    "drivestack tune --config configs/tune/highway_dqn.yaml --out runs/tune",
                    [json_parent("every trial's settings and best validation")])
    u.add_argument("--config", type=Path, default=CONFIG_DIR / "tune" / "highway_dqn.yaml",
                   help="sweep YAML: shared training settings and the search space")
    u.add_argument("--out", type=output_dir, default=Path("runs/tune"), help="Tune's trials, best_policy.zip and .md")
    u.add_argument("--timesteps", type=int, default=None, help="steps per trial (default: the YAML's)")
    u.add_argument("--num-samples", type=int, default=None, help="draws of the search space (default: the YAML's)")
    u.add_argument("--workers", type=int, default=None, help="CPUs of the embedded Ray (default: all, up to 8)")
    u.add_argument("--address", default=None, metavar="HOST:PORT",
                   help="join a running Ray cluster (default: $RAY_ADDRESS, else an embedded Ray)")
    u.set_defaults(run=tune_policies)


def train(args: argparse.Namespace) -> int:
    if args.model == "policy":
        return _train_policy(args)
    if args.data is None:
        raise ValueError(f"train --model {args.model} needs --data DIR (written by drivestack datagen)")
    if args.federated:
        from sim.cli.fleet import train_federated
        return train_federated(args)
    from perception.pseudo_labels import PseudoLabelConfig
    from perception.train_camera import train_camera
    from perception.train_lidar import train_lidar
    from perception.training import TrainConfig
    from sim.cli.fleet import DETECTOR_LR, check_pseudo, student_path, teacher_path, write_card

    check_pseudo(args)
    positive("--epochs", args.epochs)
    positive("--batch-size", args.batch_size)
    positive("--patience", args.patience)
    lr = args.lr if args.lr is not None else DETECTOR_LR[args.model]
    out = args.out or Path("runs") / args.model
    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=lr, seed=args.seed, device=args.device,
                      max_train_frames=args.max_train_frames, patience=args.patience,
                      init_weights=args.init_weights)
    try:
        if args.model == "camera":
            pseudo = PseudoLabelConfig(teacher_path(args.teacher), args.score_threshold, student=student_path(args.student),
                                       student_threshold=args.student_threshold) if args.labels == "pseudo" else None
            result = train_camera(args.data, out, cfg, resume=args.resume, pseudo=pseudo, val_data=args.val_data)
        else:
            result = train_lidar(args.data, out, cfg, resume=args.resume)
    except KeyboardInterrupt:  # every finished epoch is in OUT/last.pt (and the best in OUT/best.pt)
        last = out / "last.pt"
        return interrupted(f"the last finished epoch is in {last}: continue with --resume" if last.exists()
                           else "no epoch had finished")
    print(f"best validation AP@2m {result['best_val_ap_2m']:.3f} after {result['epochs']} epochs, "
          f"{result['wall_s'] / 60:.1f} min; weights: {out / 'best.pt'} (card: {write_card(out, args, result)})")
    return 0


def _train_policy(args: argparse.Namespace) -> int:
    from sim.rl.train import PolicyTrainSettings, latest_checkpoint, scenario_of, train_policy

    positive("--timesteps", args.timesteps)
    positive("--n-envs", args.n_envs)
    positive("--eval-episodes", args.eval_episodes)
    scenario_of(args.env)
    out = args.out or Path("runs") / f"policy_{args.algo}"
    settings = PolicyTrainSettings(args.algo, args.env, args.world_model, args.timesteps, args.n_envs, args.seed, out,
                                   args.eval_freq, args.eval_episodes, args.eval_freq, args.resume,
                                   "cpu" if args.device == "auto" else args.device, tuple(args.overrides))
    try:
        s = train_policy(settings)
    except KeyboardInterrupt:  # SB3 checkpoints every --eval-freq steps into OUT/checkpoints
        ckpt = latest_checkpoint(out)
        return interrupted(f"the last checkpoint is {ckpt}: continue with --resume" if ckpt is not None
                           else "no checkpoint had been written")
    best = s["best_eval"] or s["final_eval"]
    print(f"{s['timesteps']} steps in {s['wall_s'] / 60:.1f} min ({s['steps_per_s']:.1f} steps/s); best validation: "
          f"collisions {best['collision_rate']:.0%}, speed {best['mean_speed_mps']:.2f} m/s; "
          f"policy: {out / 'best_model.zip'}")
    return 0


def tune_policies(args: argparse.Namespace) -> int:
    from sim.backends import Backend
    from sim.evaluation.metrics import write_json
    from sim.rl.tune import format_table, load_spec, run_tune, write_best

    for flag, value in (("--timesteps", args.timesteps), ("--num-samples", args.num_samples)):
        if value is not None:
            positive(flag, value)
    backend = Backend("ray", args.workers, args.address)
    spec = load_spec(args.config, args.timesteps, args.num_samples)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = run_tune(spec, args.out, backend)
    print(format_table(rows, spec.timesteps))
    best = write_best(rows, args.out, args.config)
    print(f"best policy: {best} (card: {args.out / 'best_policy.md'})" if best else "no trial finished a validation")
    report = {"config": str(args.config), "timesteps": spec.timesteps, "trials": rows}
    for path in (args.out / "tune.json", args.json):
        if path is not None:
            write_json(path, report)
    return 0 if best else 1
