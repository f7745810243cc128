"""Multi-object tracking, ego state and lane context -> ``WorldModel``."""
from fusion.lanes import LanePosition, arc_length, interpolate, locate, project
from fusion.types import EgoState, Lane, LaneMap, Track, WorldModel

__all__ = ["EgoState", "Lane", "LaneMap", "LanePosition", "Track", "WorldModel", "arc_length",
           "interpolate", "locate", "project"]
