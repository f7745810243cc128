"""Scenarios: typed configs loaded from ``configs/scenarios/*.yaml`` and the highway-env they build."""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from perception.lookup import Registry
from sim.config import CONFIG_DIR, apply_overrides, from_dict, load_yaml
from sim.highway.env_schema import validate_env

SCENARIO_DIR = CONFIG_DIR / "scenarios"


@dataclass(frozen=True)
class ScenarioConfig:
    """One driving scenario.

    ``env`` holds highway-env's own configuration keys for this environment (lanes_count,
    vehicles_count, ...), passed through at the sim boundary only. ``destination`` is the road
    node the ego is routed to (None: follow the road).
    """

    name: str
    env_id: str
    duration_s: float
    seed: int = 0
    policy_frequency_hz: int = 10
    simulation_frequency_hz: int = 10
    destination: str | None = None
    env: Mapping[str, Any] = field(default_factory=dict)

    @property
    def dt_s(self) -> float:
        return 1.0 / self.policy_frequency_hz


SCENARIOS: Registry[Path] = Registry("scenario", lambda: {p.stem: p for p in SCENARIO_DIR.glob("*.yaml")})
"""Scenario YAML files by name (configs/scenarios)."""


def scenario_names() -> list[str]:
    return SCENARIOS.names()


def load_scenario(name: str, overrides: list[str] | None = None) -> ScenarioConfig:
    """Scenario by name (or path to a YAML file) with ``key=value`` overrides applied."""
    path = Path(name) if os.path.sep in name or name.endswith(".yaml") else SCENARIOS[name]
    cfg = from_dict(ScenarioConfig, apply_overrides(load_yaml(path), overrides or []), "scenario.")
    if cfg.policy_frequency_hz <= 0 or cfg.simulation_frequency_hz % cfg.policy_frequency_hz:
        raise ValueError("scenario.simulation_frequency_hz must be a positive multiple of policy_frequency_hz")
    if cfg.duration_s <= 0:
        raise ValueError(f"scenario.duration_s must be positive, got {cfg.duration_s}")
    if cfg.seed < 0:
        raise ValueError(f"scenario.seed must be >= 0, got {cfg.seed}")
    validate_env(cfg.env)
    check_env_id(cfg.env_id)
    return cfg


def _qualified(env_id: str) -> tuple[str, str]:
    """(module that registers it, gymnasium id): ``module:id``, or a bare id of highway-env's own."""
    module, _, name = env_id.rpartition(":")
    return module or "highway_env", name


def check_env_id(env_id: str) -> None:
    """Refuse an environment id that no module registers, before any worker starts."""
    import importlib

    import gymnasium as gym

    module, name = _qualified(env_id)
    try:
        importlib.import_module(module)
    except ImportError:
        raise ValueError(f"scenario.env_id '{env_id}': there is no module '{module}' to register it") from None
    if name not in gym.registry:
        raise ValueError(f"scenario.env_id '{env_id}': '{module}' registers no environment '{name}'")


def with_seed(cfg: ScenarioConfig, seed: int) -> ScenarioConfig:
    return replace(cfg, seed=seed)


def highway_env_config(cfg: ScenarioConfig, accel_range: tuple[float, float], steer_max_rad: float) -> dict:
    """highway-env config dict: the scenario's keys plus the ContinuousAction at the control rate."""
    config = dict(cfg.env)
    config.update({
        "action": {"type": "ContinuousAction", "acceleration_range": list(accel_range),
                   "steering_range": [-steer_max_rad, steer_max_rad], "longitudinal": True, "lateral": True},
        "policy_frequency": cfg.policy_frequency_hz,
        "simulation_frequency": cfg.simulation_frequency_hz,
        "duration": cfg.duration_s,
        "offroad_terminal": False,
        "offscreen_rendering": True,
    })
    if cfg.destination is not None and cfg.env_id.startswith("intersection"):
        config["destination"] = cfg.destination
    return config


def use_offscreen_video() -> None:
    """Headless rendering: SDL's offscreen driver. (highway-env disables its viewer entirely when
    SDL_VIDEODRIVER=dummy, which renders black frames, so dummy is replaced too.)"""
    if os.environ.get("SDL_VIDEODRIVER", "dummy") == "dummy":
        os.environ["SDL_VIDEODRIVER"] = "offscreen"


def make_env(cfg: ScenarioConfig, accel_range: tuple[float, float], steer_max_rad: float, render: bool = False):
    """Create the highway-env environment of a scenario (ContinuousAction, 10 Hz control)."""
    import gymnasium as gym
    import highway_env  # noqa: F401  (registers the env ids)

    use_offscreen_video()
    warnings.filterwarnings("ignore", message=".*is out of date.*")  # intersection-v0 keeps kinematics
    return gym.make(":".join(_qualified(cfg.env_id)), config=highway_env_config(cfg, accel_range, steer_max_rad),
                    disable_env_checker=True, render_mode="rgb_array" if render else None)
