"""Evaluating a policy on ``DriveEnv`` during training: collision rate and speed on fixed seeds."""
from __future__ import annotations

import csv
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

VALIDATION_SEED_START = 900_000
"""Seeds of the episodes the training-time evaluation drives (never used for training or the final table)."""


@dataclass(frozen=True)
class PolicyEvaluation:
    timesteps: int
    episodes: int
    collision_rate: float
    mean_speed_mps: float
    mean_return: float
    mean_distance_m: float

    @property
    def objective(self) -> float:
        """One number to maximise that ranks as ``better_than`` does while speeds differ by less than
        ``100 / episodes`` m/s: mean speed [m/s] minus 100 per unit collision rate."""
        return self.mean_speed_mps - 100.0 * self.collision_rate

    def better_than(self, other: "PolicyEvaluation | None") -> bool:
        """Fewer collisions first, then faster."""
        if other is None:
            return True
        return (self.collision_rate, -self.mean_speed_mps) < (other.collision_rate, -other.mean_speed_mps)


def _mask_aware(model) -> bool:
    """Whether ``predict`` takes the safety mask (sb3-contrib's maskable algorithms)."""
    import inspect

    return "action_masks" in inspect.signature(model.predict).parameters


def evaluate_on_env(model, env, seeds: list[int], timesteps: int = 0) -> PolicyEvaluation:
    """Drive one deterministic episode per seed on ``env`` (a ``DriveEnv``)."""
    crashes, speeds, returns, distances = [], [], [], []
    for seed in seeds:
        obs, info = env.reset(options={"episode_seed": seed})
        done, total = False, 0.0
        while not done:
            masks = {"action_masks": env.action_masks()} if _mask_aware(model) else {}
            action, _ = model.predict(obs, deterministic=True, **masks)
            obs, reward, terminated, truncated, info = env.step(int(np.asarray(action).reshape(-1)[0]))
            total += float(reward)
            done = terminated or truncated
        crashes.append(info["crashed"])
        speeds.append(info["mean_speed_mps"])
        returns.append(total)
        distances.append(info["distance_m"])
    return PolicyEvaluation(timesteps, len(seeds), float(np.mean(crashes)), float(np.mean(speeds)),
                            float(np.mean(returns)), float(np.mean(distances)))


class DrivingEvalCallback(BaseCallback):
    """Every ``eval_freq`` environment steps: evaluate, log to TensorBoard and eval.csv, keep the best model."""

    def __init__(self, env, seeds: list[int], eval_freq: int, out_dir: Path, verbose: int = 1,
                 on_result: Callable[["PolicyEvaluation", object], None] | None = None) -> None:
        """``on_result(evaluation, model)`` is called after every evaluation (e.g. to report to Ray Tune)."""
        super().__init__(verbose)
        self.env, self.seeds, self.eval_freq, self.out_dir = env, seeds, eval_freq, Path(out_dir)
        self.on_result = on_result
        self.best: PolicyEvaluation | None = None
        self._last_eval = 0

    def _on_training_start(self) -> None:
        self._last_eval = self.num_timesteps

    def _on_step(self) -> bool:
        if self.num_timesteps - self._last_eval >= self.eval_freq:
            self._last_eval = self.num_timesteps
            self.run_evaluation()
        return True

    def run_evaluation(self) -> PolicyEvaluation:
        t0 = time.perf_counter()
        result = evaluate_on_env(self.model, self.env, self.seeds, self.num_timesteps)
        for key in ("collision_rate", "mean_speed_mps", "mean_return", "mean_distance_m"):
            self.logger.record(f"eval/{key}", getattr(result, key))
        self.logger.dump(self.num_timesteps)
        self._append_csv(result)
        if result.better_than(self.best):
            self.best = result
            self.model.save(self.out_dir / "best_model.zip")
        if self.on_result is not None:
            self.on_result(result, self.model)
        if self.verbose:
            print(f"eval @ {result.timesteps} steps: collisions {result.collision_rate:.0%}, "
                  f"speed {result.mean_speed_mps:.2f} m/s, return {result.mean_return:.1f} "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
        return result

    def _append_csv(self, result: PolicyEvaluation) -> None:
        path = self.out_dir / "eval.csv"
        new = not path.exists()
        with open(path, "a", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(asdict(result)))
            if new:
                writer.writeheader()
            writer.writerow(asdict(result))
