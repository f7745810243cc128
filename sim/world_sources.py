"""World-model sources, chosen by name: all produce the same ``WorldModel`` type."""
from __future__ import annotations

from typing import Callable, Protocol

from fusion.types import LaneMap, WorldModel
from sim.ground_truth import GroundTruthFrame, GroundTruthWorld


class WorldSource(Protocol):
    name: str

    def reset(self) -> None: ...

    def build(self, env, gt: GroundTruthFrame, lane_map: LaneMap, route_nodes: tuple[str, ...]) -> WorldModel: ...


WORLD_SOURCES: dict[str, Callable[[], WorldSource]] = {
    "ground_truth": GroundTruthWorld,
}


def make_world_source(name: str) -> WorldSource:
    if name not in WORLD_SOURCES:
        raise ValueError(f"unknown world model '{name}'; valid: {', '.join(sorted(WORLD_SOURCES))}")
    return WORLD_SOURCES[name]()
