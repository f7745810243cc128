"""The builder layer: a validated ``RunSetup`` from the YAML files in configs/ plus
``section.key=value`` overrides. Configs become typed objects here and nowhere else."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from control.controller import ControllerConfig, TrackingController
from fusion.tracker import TRACKER_PRESETS
from perception.lookup import Registry
from perception.runtime import check_runtime
from planning.rl_policy import load_policy, shipped_policy
from planning.rule_planner import RulePlannerConfig
from sim.config import CONFIG_DIR, apply_overrides, from_dict, load_yaml
from sim.highway.env import open_env as _open_env
from sim.highway.scenarios import ScenarioConfig, load_scenario
from sim.loop.drivers import DRIVERS
from sim.loop.faults import InjectedFault
from sim.loop.world_sources import WORLD_SOURCES, PerceptionConfig
from sim.sensors.rig import RigConfig, load_rig

SECTIONS = ("scenario", "planner", "controller", "perception", "sensors")
CONTROLLERS: Registry[type] = Registry("controller", {"pure_pursuit_pid": TrackingController})
"""Controllers by the ``name`` key of configs/controller.yaml."""


@dataclass(frozen=True)
class RunSetup:
    """Everything one closed-loop episode needs besides its seed."""

    scenario: ScenarioConfig
    planner: str = "rule"
    world_model: str = "ground_truth"
    planner_config: RulePlannerConfig = field(default_factory=RulePlannerConfig)
    controller_config: ControllerConfig = field(default_factory=ControllerConfig)
    perception: PerceptionConfig = field(default_factory=PerceptionConfig)
    rig: RigConfig | None = None
    """Sensor rig of the episode's sensor simulation (None: configs/sensors/default.yaml)."""
    policy_file: str | None = None
    """Trained policy of the ``rl`` planner."""
    faults: tuple[InjectedFault, ...] = ()
    """Faults injected into the stack on purpose (``simulate --inject-fault``), for diagnostics tests."""


def open_env(setup: RunSetup, render: bool = False):
    """The scenario's highway-env environment with the action ranges of the ego's vehicle."""
    return _open_env(setup.scenario, setup.controller_config.vehicle, render)


def split_overrides(overrides: list[str]) -> dict[str, list[str]]:
    """Group ``section.key=value`` overrides by section; an unknown section is a ValueError."""
    out: dict[str, list[str]] = {s: [] for s in SECTIONS}
    for item in overrides:
        section, _, rest = item.partition(".")
        if section not in out or not rest:
            raise ValueError(f"override '{item}' must start with one of: {', '.join(SECTIONS)} (e.g. planner.horizon_s=6)")
        if "=" not in rest:
            raise ValueError(f"override '{item}' must look like section.key=value (e.g. planner.horizon_s=6)")
        out[section].append(rest)
    return out


def load_planner_config(overrides: list[str]) -> RulePlannerConfig:
    data = apply_overrides(load_yaml(CONFIG_DIR / "planners" / "rule.yaml"), overrides)
    return from_dict(RulePlannerConfig, data, "planner.")


def load_controller_config(overrides: list[str]) -> ControllerConfig:
    data = apply_overrides(load_yaml(CONFIG_DIR / "controller.yaml"), overrides)
    CONTROLLERS.check(data.pop("name", "pure_pursuit_pid"))
    return from_dict(ControllerConfig, data, "controller.")


def load_perception_config(overrides: list[str]) -> PerceptionConfig:
    cfg = from_dict(PerceptionConfig, apply_overrides(load_yaml(CONFIG_DIR / "perception.yaml"), overrides), "perception.")
    TRACKER_PRESETS.check(cfg.tracker_preset)
    check_runtime(cfg.runtime, cfg.precision, cfg.device)
    return cfg


def build_setup(scenario: str, planner: str, world_model: str, overrides: list[str] | None = None,
                policy_file: str | None = None, rig: str = "default") -> RunSetup:
    """Validated RunSetup; every user mistake is a ValueError naming the valid choices."""
    if planner == "rl":
        policy_file = policy_file if policy_file is not None else shipped_policy(scenario)
        load_policy(policy_file)  # a bad file is reported here, before any worker starts
    DRIVERS.check(planner)
    WORLD_SOURCES.check(world_model)
    groups = split_overrides(overrides or [])
    controller = load_controller_config(groups["controller"])
    planner_cfg = replace(load_planner_config(groups["planner"]), controller=controller)
    return RunSetup(load_scenario(scenario, groups["scenario"]), planner, world_model, planner_cfg, controller,
                    load_perception_config(groups["perception"]), load_rig(rig, groups["sensors"]),
                    str(policy_file) if policy_file is not None else None)
