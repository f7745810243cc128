"""Ego drivers, chosen by name: the project's stack (a planner + the tracking controller) or
highway-env's own IDM/MOBIL as a baseline."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from control.controller import ControllerConfig, TrackingController
from control.types import Command, Trajectory
from fusion.types import WorldModel
from perception.lookup import Registry
from planning.planner import Planner, make_planner
from planning.rule_planner import RulePlannerConfig


@dataclass(frozen=True)
class PlanStatus:
    """How the planner's choice went at one tick, for runtime diagnostics: ``proposals`` scored,
    ``collision_free`` of them passing the collision gate, and the chosen one's first predicted
    collision [s] (inf: none within the horizon)."""

    proposals: int
    collision_free: int
    chosen_collision_s: float


class EgoDriver(Protocol):
    name: str
    highway_ego: bool
    """True: highway-env's own vehicle model drives the ego (``act`` returns no command)."""

    def reset(self) -> None: ...

    def act(self, world: WorldModel) -> tuple[Command | None, Trajectory | None]: ...

    def plan_status(self) -> PlanStatus | None:
        """The last ``act``'s ``PlanStatus`` (None: the planner does not score proposals)."""


class StackDriver:
    """Plans on the world model and tracks the plan with the project's controller."""

    highway_ego = False

    def __init__(self, name: str, planner: Planner, controller: TrackingController) -> None:
        self.name, self.planner, self.controller = name, planner, controller
        self._status: PlanStatus | None = None

    def reset(self) -> None:
        self.planner.reset()
        self.controller.reset()
        self._status = None

    def act(self, world: WorldModel) -> tuple[Command, Trajectory]:
        trajectory = self.planner.plan(world)
        # the rule planner's proposals of this plan; empty when it had none (no lane: braking)
        self._status = status_from_debug(getattr(self.planner, "last_debug", None))
        return self.controller.command(trajectory, world.ego), trajectory

    def plan_status(self) -> PlanStatus | None:
        return self._status


class IdmDriver:
    """Baseline: highway-env's IDM (longitudinal) + MOBIL (lane changes) drives the ego, with the
    rule planner's desired speed and the scenario's route (``sim.highway.env.replace_ego_with_idm``)."""

    name = "idm"
    highway_ego = True

    def reset(self) -> None:
        pass

    def act(self, world: WorldModel) -> tuple[None, None]:
        return None, None

    def plan_status(self) -> None:
        return None


def status_from_debug(debug: dict | None) -> PlanStatus | None:
    """``PlanStatus`` from a rule planner's ``last_debug`` (its per-proposal gate terms), else None."""
    terms = (debug or {}).get("terms")
    if not terms or "collision" not in terms:
        return None
    collide = np.asarray(terms["collision"], dtype=bool)
    hit_s = np.asarray(terms.get("collision_time_s", np.full(len(collide), np.inf)), dtype=float)
    best = int(debug.get("best", 0))
    chosen = float(hit_s[best]) if collide[best] else float("inf")
    return PlanStatus(len(collide), int((~collide).sum()), chosen)


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
