"""RL sweeps on Ray Tune: a grid or random search of SB3 trainings from a YAML (``configs/tune``),
each trial reporting its validation to Tune with a checkpoint (a restarted trial resumes from it),
ASHA stopping weak trials early, a ranked table and the best policy written with its card.

Search keys: ``seed``, ``algo``, ``hyper.KEY`` (over configs/rl/ALGO.yaml, e.g. hyper.learning_rate)
and any ``--set`` key (``env.reward.w_comfort``, ``scenario.duration_s``, ...)."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sim.config import from_dict, load_yaml
from sim.rl.callbacks import PolicyEvaluation
from sim.rl.train import PolicyTrainSettings, latest_checkpoint, scenario_of

METRICS = ("objective", "collision_rate", "mean_speed_mps", "mean_return", "timesteps")


@dataclass(frozen=True)
class AshaConfig:
    grace_period: int = 1000
    reduction_factor: int = 2


@dataclass(frozen=True)
class TuneSpec:
    """A sweep (``configs/tune/*.yaml``): the shared training settings and the search space."""

    algo: str = "dqn"
    env: str = "drivestack/Highway-v0"
    world_model: str = "surrogate"
    timesteps: int = 2000
    n_envs: int = 1
    eval_freq: int = 500
    eval_episodes: int = 2
    num_samples: int = 1
    asha: AshaConfig = field(default_factory=AshaConfig)
    overrides: tuple[str, ...] = ()
    search: dict = field(default_factory=dict)


def load_spec(path: Path, timesteps: int | None = None, num_samples: int | None = None) -> TuneSpec:
    spec = from_dict(TuneSpec, load_yaml(path), "tune.")
    spec = replace(spec, timesteps=timesteps or spec.timesteps, num_samples=num_samples or spec.num_samples)
    for name, value in (("timesteps", spec.timesteps), ("n_envs", spec.n_envs), ("eval_freq", spec.eval_freq),
                        ("eval_episodes", spec.eval_episodes), ("num_samples", spec.num_samples)):
        if value < 1:
            raise ValueError(f"tune.{name} must be >= 1, got {value}")
    scenario_of(spec.env)
    if not spec.search:
        raise ValueError(f"{path}: 'search' is empty: nothing to sweep")
    for key in spec.search:
        if key not in ("seed", "algo") and "." not in key:
            raise ValueError(f"tune.search.{key}: use seed, algo, hyper.KEY or a --set key such as env.reward.w_lane")
    return spec


def param_space(search: dict) -> dict:
    """Tune's search space: a list is a grid, ``{low, high[, log]}`` a uniform (log-uniform) draw,
    ``{choice: [...]}`` a random pick."""
    from ray import tune

    space = {}
    for key, value in search.items():
        if isinstance(value, list):
            space[key] = tune.grid_search(value)
        elif isinstance(value, dict) and "choice" in value:
            space[key] = tune.choice(value["choice"])
        elif isinstance(value, dict) and {"low", "high"} <= set(value):
            draw = tune.loguniform if value.get("log") else tune.uniform
            space[key] = draw(float(value["low"]), float(value["high"]))
        else:
            raise ValueError(f"tune.search.{key}: give a list (grid), {{low, high, log}} or {{choice: [...]}}, "
                             f"got {value!r}")
    return space


def trial_settings(spec: TuneSpec, point: dict, out: Path) -> PolicyTrainSettings:
    """The training settings of one point of the search space."""
    hyper = tuple((k.split(".", 1)[1], v) for k, v in point.items() if k.startswith("hyper."))
    sets = tuple(f"{k}={v}" for k, v in point.items() if "." in k and not k.startswith("hyper."))
    return PolicyTrainSettings(point.get("algo", spec.algo), spec.env, spec.world_model, spec.timesteps, spec.n_envs,
                               int(point.get("seed", 0)), out, spec.eval_freq, spec.eval_episodes, spec.eval_freq,
                               overrides=tuple(spec.overrides) + sets, hyperparameters=hyper)


def _trial(point: dict, spec: TuneSpec) -> None:
    """One Tune trial: train, report every validation with a checkpoint, resume from Tune's checkpoint."""
    import tempfile

    from ray import tune

    from sim.rl.train import train_policy

    out = Path(tune.get_context().get_trial_dir()) / "policy"
    settings = trial_settings(spec, point, out)
    restored = tune.get_checkpoint()
    if restored is not None:  # a restarted trial: continue from its last reported model
        with restored.as_directory() as folder:
            (out / "checkpoints").mkdir(parents=True, exist_ok=True)
            for f in Path(folder).glob("policy_*_steps.zip"):
                shutil.copy(f, out / "checkpoints" / f.name)
        settings = replace(settings, resume=latest_checkpoint(out) is not None)

    def report(result: PolicyEvaluation, model) -> None:
        with tempfile.TemporaryDirectory() as folder:
            model.save(Path(folder) / f"policy_{model.num_timesteps}_steps.zip")
            tune.report({"objective": result.objective, "collision_rate": result.collision_rate,
                         "mean_speed_mps": result.mean_speed_mps, "mean_return": result.mean_return,
                         "timesteps": result.timesteps}, checkpoint=tune.Checkpoint.from_directory(folder))

    train_policy(settings, on_eval=report)


def run_tune(spec: TuneSpec, out: Path, backend) -> list[dict]:
    """Run the sweep on Ray (embedded or the cluster of ``backend``); rows ranked best first."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    from sim.backends.ray_backend import connect

    connect(backend)
    scheduler = ASHAScheduler(time_attr="timesteps", metric="objective", mode="max", max_t=spec.timesteps,
                              grace_period=min(spec.asha.grace_period, spec.timesteps),
                              reduction_factor=spec.asha.reduction_factor)
    trainable = tune.with_resources(tune.with_parameters(_trial, spec=spec), {"cpu": spec.n_envs})
    tuner = tune.Tuner(trainable, param_space=param_space(spec.search),
                       tune_config=tune.TuneConfig(scheduler=scheduler, num_samples=spec.num_samples),
                       run_config=tune.RunConfig(name="sweep", storage_path=str(out.resolve()), verbose=1,
                                                 failure_config=tune.FailureConfig(max_failures=2)))
    grid = tuner.fit()
    rows = []
    for r in grid:
        if r.error is not None:
            rows.append({"trial": Path(r.path).name, "params": r.config, "error": str(r.error).splitlines()[0]})
            continue
        best = r.metrics_dataframe.sort_values("objective", ascending=False).iloc[0]
        rows.append({"trial": Path(r.path).name, "params": r.config, "error": None,
                     "steps_run": int(r.metrics["timesteps"]), "best": {m: float(best[m]) for m in METRICS},
                     "policy": str(Path(r.path) / "policy" / "best_model.zip")})
    return sorted(rows, key=lambda row: (row["error"] is not None, -(row.get("best") or {}).get("objective", 0.0)))


def format_table(rows: list[dict], timesteps: int) -> str:
    keys = sorted({k for r in rows for k in r["params"]})
    head = "".join(f"{k:>24}" for k in keys)
    lines = [f"{'rank':<5}{head}{'steps':>8}{'collisions':>11}{'speed m/s':>10}{'return':>8}{'objective':>10}"]
    for i, r in enumerate(rows, 1):
        params = "".join(f"{_short(r['params'].get(k)):>24}" for k in keys)
        if r["error"] is not None:
            lines.append(f"{i:<5}{params}  failed: {r['error']}")
            continue
        b = r["best"]
        stopped = "" if r["steps_run"] >= timesteps else " (stopped early by ASHA)"
        lines.append(f"{i:<5}{params}{r['steps_run']:>8}{b['collision_rate']:>11.0%}{b['mean_speed_mps']:>10.2f}"
                     f"{b['mean_return']:>8.1f}{b['objective']:>10.2f}{stopped}")
    return "\n".join(lines)


def _short(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def write_best(rows: list[dict], out: Path, config_path: Path) -> Path | None:
    """Copy the best trial's best policy to OUT/best_policy.zip with its card (OUT/best_policy.md)."""
    best = next((r for r in rows if r["error"] is None and Path(r["policy"]).exists()), None)
    if best is None:
        return None
    target = out / "best_policy.zip"
    shutil.copy(best["policy"], target)
    b = best["best"]
    card = [f"# Policy from a Ray Tune sweep ({config_path})", "",
            f"Made by: `drivestack tune --config {config_path} --out {out}`; trial {best['trial']}.", "",
            "Trial settings (over the sweep's shared ones):", ""]
    card += [f"- `{k}`: {v}" for k, v in sorted(best["params"].items())]
    card += ["", f"Validation (seeds 900000+, never trained on) at {int(b['timesteps'])} steps: collision rate "
             f"{b['collision_rate']:.0%}, mean speed {b['mean_speed_mps']:.2f} m/s, return {b['mean_return']:.1f}.",
             "", "Ranked with its sweep's other trials in OUT/tune.json. Use it with "
             f"`drivestack simulate --planner rl --policy {target}`."]
    (out / "best_policy.md").write_text("\n".join(card) + "\n")
    return target
