"""The one place a ``WorldModel`` is assembled: ego state, tracks, lane context and route.

``WorldBuilder`` is the perception path: each tick's detections (score-gated) and ego odometry go
through the multi-object tracker, tracks and ego are placed on the lane map. ``world_model`` is the
assembly step itself, also used by sources that already hold tracks (the simulator's ground truth).
Live closed loop, log replay, tracking evaluation and the RL environment all build their world
models here, so they cannot drift apart.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from fusion.lanes import locate
from fusion.tracker import MultiObjectTracker, TrackerConfig
from fusion.types import EgoState, LaneMap, Track, WorldModel
from perception.detections import Detections


def world_model(ego: EgoState, tracks: tuple[Track, ...], lane_map: LaneMap | None, route_nodes: tuple[str, ...],
                source: str, ego_lane_id: str | None = None, locate_ego: bool = True) -> WorldModel:
    """The world model at ``ego.stamp``. With ``locate_ego`` the ego's lane is found on ``lane_map``
    from its (estimated) pose, ``ego_lane_id`` being the fallback when the pose is on no lane;
    otherwise ``ego_lane_id`` is taken as given (a privileged source knows it)."""
    lane_id = ego_lane_id
    if locate_ego and lane_map is not None:
        where = locate(lane_map, ego.x_m, ego.y_m)
        lane_id = where.lane_id if where is not None else ego_lane_id
    return WorldModel(stamp=ego.stamp, ego=ego, tracks=tracks, lane_map=lane_map, ego_lane_id=lane_id,
                      route_nodes=route_nodes, source=source)


@cache
def warm_up(config: TrackerConfig) -> None:
    """Three ticks of a throwaway tracker on two synthetic cars that every configured sensor sees.

    The tracker's compiled kernels (``fusion.kernels``) load from numba's cache at their first call
    (about 1.5 s, or compile in a fresh checkout); this makes that happen while the stack is built,
    so a loop's first tick costs what the others do and its timing means something. Once per process
    and configuration: the kernels stay loaded."""
    sources = [m.source for m in config.sensors] or ["lidar"]
    tracker = MultiObjectTracker(config)
    for k in range(3):
        stamp = 0.1 * k
        ego = EgoState(stamp=stamp, x_m=2.0 * k, y_m=0.0, yaw_rad=0.0, speed_mps=20.0)
        centre = np.array([[20.0, 0.0, 0.75], [35.0, 4.0, 0.75]])
        batches = [Detections(stamp, s, centre, np.tile([4.5, 1.9, 1.5], (2, 1)), np.zeros(2), np.ones(2),
                              np.tile(0.1 * np.eye(2), (2, 1, 1))) for s in sources]
        tracker.update(batches, ego)
        tracker.tracks()


class WorldBuilder:
    """Detections + ego odometry -> ``WorldModel``, one call per tick (``update``)."""

    def __init__(self, tracker: TrackerConfig = TrackerConfig(), score_threshold: float = 0.2,
                 source: str = "perception") -> None:
        self.score_threshold = score_threshold
        """Detections scoring below this never reach the tracker."""
        self.source = source
        self.tracker = MultiObjectTracker(tracker)
        warm_up(tracker)

    def reset(self) -> None:
        self.tracker.reset()

    def update(self, detections: Sequence[Detections], ego: EgoState, lane_map: LaneMap | None,
               route_nodes: tuple[str, ...] = (), fallback_lane_id: str | None = None) -> WorldModel:
        """Fuse one tick's detection batches (ego frame) at ``ego.stamp`` and return the world model.

        ``fallback_lane_id`` is the ego's lane when its estimated pose lies on no lane."""
        self.tracker.update([d.above(self.score_threshold) for d in detections], ego, ego.stamp)
        tracks = self.tracker.tracks(lane_map)
        return world_model(ego, tracks, lane_map, route_nodes, self.source, fallback_lane_id)
