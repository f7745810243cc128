"""Shared by the tracker tests: detections of map-frame points seen from a moving ego, and the ego's path."""
import math

import numpy as np

from fusion.tracker import TrackerConfig
from fusion.types import EgoState
from perception.detections import Detections

DT = 0.1
LIDAR_COV = 0.15 ** 2 * np.eye(2)
INSTANT = TrackerConfig(output_existence=0.0)  # every detection is a visible track at once


def detections(stamp, ego, xy_map, cov_ego=LIDAR_COV, source="lidar", yaw_map=0.0, score=1.0):
    """Detections of map-frame points (M, 2) as seen from ``ego`` (centres moved to the ego frame)."""
    xy_map = np.atleast_2d(np.asarray(xy_map, dtype=float))
    n = len(xy_map)
    c, s = math.cos(ego.yaw_rad), math.sin(ego.yaw_rad)
    rel = xy_map - [ego.x_m, ego.y_m]
    center = np.zeros((n, 3))
    center[:, 0] = c * rel[:, 0] + s * rel[:, 1]
    center[:, 1] = -s * rel[:, 0] + c * rel[:, 1]
    yaw = np.broadcast_to(np.asarray(yaw_map, dtype=float) - ego.yaw_rad, (n,)).copy()
    return Detections(stamp, source, center, np.tile([4.5, 1.9, 1.5], (n, 1)), yaw, np.full(n, float(score)),
                      np.broadcast_to(cov_ego, (n, 2, 2)).copy())


def ego_at(t, speed=15.0, yaw_rate=0.0):
    """Ego driving an arc (a line when ``yaw_rate`` is 0) from the origin along +x."""
    if yaw_rate == 0.0:
        return EgoState(t, speed * t, 0.0, 0.0, speed)
    r = speed / yaw_rate
    yaw = yaw_rate * t
    return EgoState(t, r * math.sin(yaw), r * (1.0 - math.cos(yaw)), yaw, speed, yaw_rate_radps=yaw_rate)


def only_track(tracker, lane_map=None):
    tracks = tracker.tracks(lane_map)
    assert len(tracks) == 1, tracks
    return tracks[0]
