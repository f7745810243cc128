"""Typed schema of the highway-env keys a scenario may set (``scenario.env``), checked before any
environment is built: unknown keys, wrong types and out-of-range values are refused with the key,
the value and what is allowed. Keys the stack sets itself (action, frequencies, duration) are
refused with the scenario key to use instead."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from perception.lookup import Registry


@dataclass(frozen=True)
class EnvKey:
    """One highway-env key: its kind ('int', 'float', 'bool', 'str', 'pair'), inclusive range."""

    kind: str
    lo: float = float("-inf")
    hi: float = float("inf")


ENV_KEYS: dict[str, EnvKey] = {
    "lanes_count": EnvKey("int", 1, 8),
    "vehicles_count": EnvKey("int", 0, 200),
    "vehicles_density": EnvKey("float", 0.1, 5.0),
    "initial_lane_id": EnvKey("int", 0, 7),
    "ego_spacing": EnvKey("float", 0.1, 10.0),
    "initial_vehicle_count": EnvKey("int", 0, 100),
    "spawn_probability": EnvKey("float", 0.0, 1.0),
    "other_vehicles_type": EnvKey("str"),
    "screen_width": EnvKey("int", 64, 4096),
    "screen_height": EnvKey("int", 64, 4096),
    "scaling": EnvKey("float", 0.5, 100.0),
    "centering_position": EnvKey("pair", 0.0, 1.0),
    "show_trajectories": EnvKey("bool"),
    "render_agent": EnvKey("bool"),
    "collision_reward": EnvKey("float", -100.0, 100.0),
    "right_lane_reward": EnvKey("float", -100.0, 100.0),
    "high_speed_reward": EnvKey("float", -100.0, 100.0),
    "lane_change_reward": EnvKey("float", -100.0, 100.0),
    "reward_speed_range": EnvKey("pair", 0.0, 100.0),
    "normalize_reward": EnvKey("bool"),
}

STACK_KEYS = {
    "action": "the stack's controller sets it",
    "policy_frequency": "use scenario.policy_frequency_hz",
    "simulation_frequency": "use scenario.simulation_frequency_hz",
    "duration": "use scenario.duration_s",
    "destination": "use scenario.destination",
    "offroad_terminal": "the stack sets it",
    "offscreen_rendering": "the stack sets it",
    "controlled_vehicles": "the stack drives exactly one ego",
}


def validate_env(env: Mapping[str, Any], prefix: str = "scenario.env.") -> dict[str, Any]:
    """The checked copy of a scenario's highway-env keys (ValueError naming the key otherwise)."""
    if not isinstance(env, Mapping):
        raise ValueError(f"config section '{prefix.rstrip('.')}' must be a mapping, got {env!r}")
    keys = Registry("config key", {f"{prefix}{k}": v for k, v in ENV_KEYS.items()})
    for key, value in env.items():
        if key in STACK_KEYS:
            raise ValueError(f"config key '{prefix}{key}' cannot be set: {STACK_KEYS[key]}")
        keys.check(f"{prefix}{key}")
        _check(f"{prefix}{key}", ENV_KEYS[key], value)
    return dict(env)


def _check(name: str, spec: EnvKey, value: Any) -> None:
    allowed = f" in [{spec.lo:g}, {spec.hi:g}]" if spec.kind in ("int", "float", "pair") else ""
    ok = {"int": lambda v: isinstance(v, int) and not isinstance(v, bool) and spec.lo <= v <= spec.hi,
          "float": lambda v: _number(v) and spec.lo <= v <= spec.hi,
          "bool": lambda v: isinstance(v, bool),
          "str": lambda v: isinstance(v, str) and v != "",
          "pair": lambda v: isinstance(v, (list, tuple)) and len(v) == 2
          and all(_number(x) and spec.lo <= x <= spec.hi for x in v)}[spec.kind]
    if not ok(value):
        what = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a non-empty string",
                "pair": "a pair of numbers"}[spec.kind]
        raise ValueError(f"config key '{name}' expects {what}{allowed}, got {value!r}")


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v
