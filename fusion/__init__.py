"""Fusion builds the world model (the only place): the multi-object tracker over every sensor's
detections, ego odometry noise, lane placement, and ``WorldBuilder`` / ``world_model`` that assemble
``WorldModel``; tracking metrics (MOTA, IDF1, MOTP)."""
from fusion.ego_odometry import OdometryNoise, map_to_ego
from fusion.lanes import LanePosition, arc_length, interpolate, locate, project
from fusion.sensor_model import SensorModel
from fusion.tracker import PRESETS, MultiObjectTracker, TrackerConfig, wrap_angle
from fusion.types import EgoState, Lane, LaneMap, Track, WorldModel
from fusion.world import WorldBuilder, world_model

__all__ = ["EgoState", "Lane", "LaneMap", "LanePosition", "MultiObjectTracker", "OdometryNoise", "PRESETS", "SensorModel",
           "Track", "TrackerConfig", "WorldBuilder", "WorldModel", "arc_length", "interpolate", "locate",
           "map_to_ego", "project", "world_model", "wrap_angle"]
