"""Ego drivers: the project's stack (planner + controller) or highway-env's own IDM/MOBIL."""
from __future__ import annotations

from typing import Protocol

from control.controller import ControllerConfig, TrackingController
from control.types import Command, Trajectory
from fusion.types import WorldModel
from planning.planner import PLANNERS, make_planner
from planning.rule_planner import RulePlannerConfig


class EgoDriver(Protocol):
    name: str

    def reset(self, env, route_nodes: tuple[str, ...], desired_speed_mps: float) -> None: ...

    def act(self, world: WorldModel) -> tuple[Command | None, Trajectory | None]: ...


class StackDriver:
    """Plans on the world model and tracks the plan with the project's controller."""

    def __init__(self, name: str, planner_config: RulePlannerConfig, controller_config: ControllerConfig,
                 **options) -> None:
        self.name = name
        self.planner = make_planner(name, planner_config, **options)
        self.controller = TrackingController(controller_config)

    def reset(self, env, route_nodes: tuple[str, ...], desired_speed_mps: float) -> None:
        self.planner.reset()
        self.controller.reset()

    def act(self, world: WorldModel) -> tuple[Command, Trajectory]:
        trajectory = self.planner.plan(world)
        return self.controller.command(trajectory, world.ego), trajectory


class IdmDriver:
    """Baseline: highway-env's IDM (longitudinal) + MOBIL (lane changes) drives the ego.

    The ego vehicle is replaced by an ``IDMVehicle`` at the same pose and speed, routed to the
    scenario's destination, with the same desired speed as the rule planner. The environment then
    ignores the (zero) actions it is given.
    """

    name = "idm"

    def reset(self, env, route_nodes: tuple[str, ...], desired_speed_mps: float) -> None:
        from highway_env.vehicle.behavior import IDMVehicle

        base = env.unwrapped
        old = base.vehicle
        new = IDMVehicle(base.road, old.position.copy(), old.heading, old.speed,
                         target_lane_index=old.lane_index, target_speed=desired_speed_mps)
        if len(route_nodes) > 1:
            new.plan_route_to(route_nodes[-1])
        base.road.vehicles[base.road.vehicles.index(old)] = new
        base.controlled_vehicles = [new]

    def act(self, world: WorldModel) -> tuple[None, None]:
        return None, None


def driver_names() -> list[str]:
    return sorted(PLANNERS) + ["idm"]


def make_driver(name: str, planner_config: RulePlannerConfig, controller_config: ControllerConfig,
                policy_file: str | None = None) -> EgoDriver:
    if name == "idm":
        return IdmDriver()
    if name not in PLANNERS:
        raise ValueError(f"unknown planner '{name}'; valid: {', '.join(driver_names())}")
    options = {"policy_file": policy_file} if name == "rl" else {}
    return StackDriver(name, planner_config, controller_config, **options)
