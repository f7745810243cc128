"""Ego drivers, chosen by name: the project's stack (a planner + the tracking controller) or
highway-env's own IDM/MOBIL as a baseline."""
from __future__ import annotations

from typing import Callable, Protocol

from control.controller import ControllerConfig, TrackingController
from control.types import Command, Trajectory
from fusion.types import WorldModel
from perception.lookup import Registry
from planning.planner import Planner, make_planner
from planning.rule_planner import RulePlannerConfig


class EgoDriver(Protocol):
    name: str
    highway_ego: bool
    """True: highway-env's own vehicle model drives the ego (``act`` returns no command)."""

    def reset(self) -> None: ...

    def act(self, world: WorldModel) -> tuple[Command | None, Trajectory | None]: ...


class StackDriver:
    """Plans on the world model and tracks the plan with the project's controller."""

    highway_ego = False

    def __init__(self, name: str, planner: Planner, controller: TrackingController) -> None:
        self.name, self.planner, self.controller = name, planner, controller

    def reset(self) -> None:
        self.planner.reset()
        self.controller.reset()

    def act(self, world: WorldModel) -> tuple[Command, Trajectory]:
        trajectory = self.planner.plan(world)
        return self.controller.command(trajectory, world.ego), trajectory


class IdmDriver:
    """Baseline: highway-env's IDM (longitudinal) + MOBIL (lane changes) drives the ego, with the
    rule planner's desired speed and the scenario's route (``sim.highway.env.replace_ego_with_idm``)."""

    name = "idm"
    highway_ego = True

    def reset(self) -> None:
        pass

    def act(self, world: WorldModel) -> tuple[None, None]:
        return None, None


def _stack(name: str) -> Callable[..., EgoDriver]:
    def build(planner_config: RulePlannerConfig, controller_config: ControllerConfig, policy_file: str | None = None):
        options = {"policy_file": policy_file} if name == "rl" else {}
        return StackDriver(name, make_planner(name, planner_config, **options), TrackingController(controller_config))
    return build


DRIVERS: Registry[Callable[..., EgoDriver]] = Registry("planner", {
    "rule": _stack("rule"),
    "rl": _stack("rl"),
    "idm": lambda *_, **__: IdmDriver(),
})
"""What ``--planner`` accepts: the planning registry's planners driven by the stack, and ``idm``."""


def make_driver(name: str, planner_config: RulePlannerConfig, controller_config: ControllerConfig,
                policy_file: str | None = None) -> EgoDriver:
    return DRIVERS[name](planner_config, controller_config, policy_file)
