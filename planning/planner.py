"""The Planner interface and the registry that builds planners by name."""
from __future__ import annotations

from typing import Callable, Protocol

from control.types import Trajectory
from fusion.types import WorldModel
from perception.lookup import Registry
from planning.rl_policy import RLPlanner
from planning.rule_planner import RulePlanner, RulePlannerConfig


class Planner(Protocol):
    """Maps a world model to a trajectory for the controller to track."""

    def reset(self) -> None: ...

    def plan(self, world: WorldModel) -> Trajectory: ...


PLANNERS: Registry[Callable[..., Planner]] = Registry("planner", {
    "rule": RulePlanner,
    "rl": RLPlanner,
})
"""Planner factories, called as ``factory(config, **options)`` (``rl`` takes ``policy_file``)."""


def make_planner(name: str, config: RulePlannerConfig | None = None, **options) -> Planner:
    """Build a planner by registry name; an unknown name lists the valid ones."""
    return PLANNERS[name](config or RulePlannerConfig(), **options)
