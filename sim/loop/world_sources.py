"""World-model sources, chosen by name: all produce the same ``WorldModel`` type."""
from __future__ import annotations

from typing import Callable, Protocol

from fusion.types import LaneMap, WorldModel
from sim.highway.ground_truth import GroundTruthFrame, GroundTruthWorld
from sim.loop.perception_world import PerceptionConfig, PerceptionWorld, SurrogateWorld
from sim.sensors.rig import RigConfig


class WorldSource(Protocol):
    name: str

    def reset(self, lane_map: LaneMap, seed: int) -> None: ...

    def build(self, env, gt: GroundTruthFrame, lane_map: LaneMap, route_nodes: tuple[str, ...]) -> WorldModel: ...


WORLD_SOURCES: dict[str, Callable[[PerceptionConfig, RigConfig | None], WorldSource]] = {
    "ground_truth": lambda cfg, rig: GroundTruthWorld(),
    "perception": PerceptionWorld,
    "surrogate": SurrogateWorld,
}


def make_world_source(name: str, cfg: PerceptionConfig | None = None, rig: RigConfig | None = None) -> WorldSource:
    if name not in WORLD_SOURCES:
        raise ValueError(f"unknown world model '{name}'; valid: {', '.join(sorted(WORLD_SOURCES))}")
    return WORLD_SOURCES[name](cfg or PerceptionConfig(), rig)
