"""Build a ``RunSetup`` from the YAML files in configs/ plus ``section.key=value`` overrides."""
from __future__ import annotations

from control.controller import ControllerConfig
from planning.rl_policy import SHIPPED_POLICY, load_policy
from planning.rule_planner import RulePlannerConfig
from sim.config import CONFIG_DIR, apply_overrides, from_dict, load_yaml
from sim.loop.drivers import driver_names
from sim.loop.perception_world import PerceptionConfig
from sim.loop.runner import RunSetup
from sim.highway.scenarios import load_scenario
from sim.sensors.rig import load_rig
from sim.loop.world_sources import WORLD_SOURCES

SECTIONS = ("scenario", "planner", "controller", "perception", "sensors")


def split_overrides(overrides: list[str]) -> dict[str, list[str]]:
    """Group ``section.key=value`` overrides by section; an unknown section is a ValueError."""
    out: dict[str, list[str]] = {s: [] for s in SECTIONS}
    for item in overrides:
        section, _, rest = item.partition(".")
        if section not in out or not rest:
            raise ValueError(f"override '{item}' must start with one of: {', '.join(SECTIONS)} (e.g. planner.horizon_s=6)")
        out[section].append(rest)
    return out


def load_planner_config(overrides: list[str]) -> RulePlannerConfig:
    data = apply_overrides(load_yaml(CONFIG_DIR / "planners" / "rule.yaml"), overrides)
    return from_dict(RulePlannerConfig, data, "planner.")


def load_controller_config(overrides: list[str]) -> ControllerConfig:
    data = apply_overrides(load_yaml(CONFIG_DIR / "controller.yaml"), overrides)
    name = data.pop("name", "pure_pursuit_pid")
    if name != "pure_pursuit_pid":
        raise ValueError(f"unknown controller '{name}'; valid: pure_pursuit_pid")
    return from_dict(ControllerConfig, data, "controller.")


def load_perception_config(overrides: list[str]) -> PerceptionConfig:
    return from_dict(PerceptionConfig, apply_overrides(load_yaml(CONFIG_DIR / "perception.yaml"), overrides), "perception.")


def build_setup(scenario: str, planner: str, world_model: str, overrides: list[str] | None = None,
                policy_file: str | None = None) -> RunSetup:
    """Validated RunSetup; every user mistake is a ValueError naming the valid choices."""
    if planner == "rl":
        policy_file = policy_file if policy_file is not None else SHIPPED_POLICY
        load_policy(policy_file)  # a bad file is reported here, before any worker starts
    if planner not in driver_names():
        raise ValueError(f"unknown planner '{planner}'; valid: {', '.join(driver_names())}")
    if world_model not in WORLD_SOURCES:
        raise ValueError(f"unknown world model '{world_model}'; valid: {', '.join(sorted(WORLD_SOURCES))}")
    groups = split_overrides(overrides or [])
    controller = load_controller_config(groups["controller"])
    planner_cfg = load_planner_config(groups["planner"])
    planner_cfg = RulePlannerConfig(**{**planner_cfg.__dict__, "controller": controller})
    return RunSetup(load_scenario(scenario, groups["scenario"]), planner, world_model, planner_cfg, controller,
                    load_perception_config(groups["perception"]), load_rig("default", groups["sensors"]),
                    str(policy_file) if policy_file is not None else None)
