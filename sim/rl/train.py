"""``drivestack train --model policy``: stable-baselines3 DQN or PPO, or sb3-contrib's MaskablePPO
(which never picks a behaviour the safety mask forbids), on ``DriveEnv``.

Vectorised environments (``SubprocVecEnv`` for more than one; each child imports ``sim.rl.env``
through the module-qualified env id), a driving evaluation on validation seeds with the best model
kept, checkpoints (with the DQN replay buffer) for ``--resume``, TensorBoard logs, a progress bar and
``learning_curves.png`` (validation speed and collisions against steps).
"""
from __future__ import annotations

import json
import re
import signal
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sim.config import CONFIG_DIR, load_yaml
from perception.lookup import Registry
from planning.rl_policy import ALGORITHMS
from sim.rl.curves import plot_learning_curves
from sim.rl.env import SCENARIO_ENV_IDS, DriveEnv, load_env_config, split_env_overrides

ALGO_CONFIGS = {"dqn": CONFIG_DIR / "rl" / "dqn.yaml", "ppo": CONFIG_DIR / "rl" / "ppo.yaml",
                "maskable_ppo": CONFIG_DIR / "rl" / "ppo.yaml"}


@dataclass(frozen=True)
class PolicyTrainSettings:
    algo: str = "dqn"
    env: str = "drivestack/Highway-v0"
    world_model: str = "surrogate"
    timesteps: int = 25_000
    n_envs: int = 2
    seed: int = 0
    out: Path = Path("runs/policy")
    eval_freq: int = 5_000
    eval_episodes: int = 4
    checkpoint_freq: int = 5_000
    resume: bool = False
    device: str = "cpu"
    overrides: tuple[str, ...] = ()
    hyperparameters: tuple[tuple[str, object], ...] = ()
    """(key, value) pairs over the algorithm's YAML (configs/rl/ALGO.yaml), e.g. ("learning_rate", 1e-4)."""


ENVIRONMENTS: Registry[str] = Registry("environment", {v: k for k, v in SCENARIO_ENV_IDS.items()})
"""Scenario of each registered env id."""


def scenario_of(env: str) -> str:
    """Scenario name from an env id (``drivestack/Highway-v0``) or a scenario name."""
    return env if env in SCENARIO_ENV_IDS else ENVIRONMENTS[env]


def _algo(name: str):
    return ALGORITHMS[name]


def _vec_env(s: PolicyTrainSettings, scenario: str):
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    env_id = f"sim.rl:{SCENARIO_ENV_IDS[scenario]}"
    kwargs = {"world_model": s.world_model, "overrides": list(s.overrides)}
    if s.n_envs == 1:
        return make_vec_env(env_id, n_envs=1, seed=s.seed, vec_env_cls=DummyVecEnv, env_kwargs=kwargs)
    return make_vec_env(partial(_child_env, env_id), n_envs=s.n_envs, seed=s.seed, vec_env_cls=SubprocVecEnv,
                        env_kwargs=kwargs)


def _child_env(env_id: str, **kwargs):
    """The env of a SubprocVecEnv child, which ignores Ctrl-C: the parent stops training and closes
    the children (a child killed by it would break the parent's pipe mid-step, with a traceback)."""
    import gymnasium as gym

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return gym.make(env_id, **kwargs)


def latest_checkpoint(out: Path) -> Path | None:
    """The checkpoint with the most steps in OUT/checkpoints (None if there is none)."""
    found = [(int(m.group(1)), p) for p in (out / "checkpoints").glob("policy_*_steps.zip")
             if (m := re.search(r"_(\d+)_steps", p.name))]
    return max(found)[1] if found else None


def _build_model(s: PolicyTrainSettings, venv, hyper: dict):
    cls = _algo(s.algo)
    tb = str(s.out / "tb")
    if not s.resume:
        return cls("MlpPolicy", venv, seed=s.seed, tensorboard_log=tb, device=s.device, verbose=0, **hyper)
    ckpt = latest_checkpoint(s.out)
    if ckpt is None:
        raise ValueError(f"--resume: no checkpoint in {s.out / 'checkpoints'}")
    model = cls.load(ckpt, env=venv, device=s.device, tensorboard_log=tb)
    buffer = ckpt.with_name(ckpt.name.replace("policy_", "policy_replay_buffer_").replace(".zip", ".pkl"))
    if s.algo == "dqn" and buffer.exists():
        model.load_replay_buffer(buffer)
    print(f"resuming from {ckpt} at {model.num_timesteps} steps")
    return model


def train_policy(s: PolicyTrainSettings, on_eval=None) -> dict:
    """Train, evaluate on validation seeds, save final.zip / best_model.zip; return a summary.
    ``on_eval(evaluation, model)`` is called after every validation (``DrivingEvalCallback``)."""
    import torch
    from stable_baselines3.common.callbacks import CallbackList, CheckpointCallback

    from planning.rl_policy import make_meta
    from sim.rl.callbacks import VALIDATION_SEED_START, DrivingEvalCallback

    scenario = scenario_of(s.env)
    hyper = {**(load_yaml(ALGO_CONFIGS[s.algo]) if s.algo in ALGO_CONFIGS else {}), **dict(s.hyperparameters)}
    env_cfg = load_env_config(split_env_overrides(list(s.overrides))[0])
    s.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)  # a small MLP; the cores belong to the simulators
    venv = _vec_env(s, scenario)
    eval_env = DriveEnv(scenario, s.world_model, list(s.overrides))
    try:
        model = _build_model(s, venv, hyper)
        meta = make_meta(s.algo, env_cfg.observation, env_cfg.behaviour, scenario=scenario, world_model=s.world_model, seed=s.seed, hyperparameters=hyper)
        model.drivestack_meta = meta.to_dict()
        seeds = list(range(VALIDATION_SEED_START, VALIDATION_SEED_START + s.eval_episodes))
        evaluator = DrivingEvalCallback(eval_env, seeds, s.eval_freq, s.out, on_result=on_eval)
        checkpoints = CheckpointCallback(max(s.checkpoint_freq // s.n_envs, 1), str(s.out / "checkpoints"), "policy",
                                         save_replay_buffer=s.algo == "dqn")
        remaining = max(s.timesteps - model.num_timesteps, 0)
        t0 = time.perf_counter()
        model.learn(remaining, callback=CallbackList([checkpoints, evaluator]), progress_bar=True,
                    reset_num_timesteps=not s.resume, tb_log_name=s.algo)
        wall = time.perf_counter() - t0
        model.save(s.out / "final.zip")
        final = evaluator.run_evaluation()
        summary = {"algo": s.algo, "env": SCENARIO_ENV_IDS[scenario], "world_model": s.world_model,
                   "timesteps": int(model.num_timesteps), "n_envs": s.n_envs, "seed": s.seed,
                   "wall_s": wall, "steps_per_s": remaining / max(wall, 1e-9),
                   "final_eval": final.__dict__, "best_eval": evaluator.best.__dict__ if evaluator.best else None,
                   "overrides": list(s.overrides), "hyperparameters": hyper}
        (s.out / "train.json").write_text(json.dumps(summary, indent=2))
        plot_learning_curves(s.out / "eval.csv", s.out / "learning_curves.png",
                             f"{s.algo} on {SCENARIO_ENV_IDS[scenario]} ({s.world_model}), seed {s.seed}")
        return summary
    finally:
        venv.close()
        eval_env.close()
