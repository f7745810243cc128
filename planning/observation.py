"""The RL policy's observation: a fixed-size, normalised vector computed from the ``WorldModel``.

Layout (``layout_id`` names it; a policy trained on one layout refuses another):

- 8 ego features, in this order (``EGO_FEATURES``): speed / speed_scale, target speed /
  speed_scale, lane speed limit / speed_scale, lateral offset from the ego lane's centre / half lane
  width, heading relative to the lane [rad] / (pi/4), a left lane exists (0/1), a right lane exists
  (0/1), target lane relative to the current one (+1 left, -1 right, 0 none).
- ``max_tracks`` rows of 9 track features (``TRACK_FEATURES``): present (0/1), x and y in the ego
  frame / range_m and / lateral_range_m, velocity relative to the ego in the ego frame /
  rel_speed_scale (x and y), position standard deviation along x and y of the ego frame (from the
  track's covariance) / std_scale, lane relative to the ego's (+1 one lane left ... clipped to +-2) / 2,
  offset from its lane's centre / half lane width.

Rows hold the tracks within the window (|x| <= range_m, |y| <= lateral_range_m) nearest first
(Euclidean distance, ties by track id); absent rows are all zero. Every feature is clipped to
[-1, 1], so the observation space is ``Box(-1, 1)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perception.geometry import wrap_angle
from fusion.lanes import locate
from fusion.types import LaneMap, Track, WorldModel
from planning.behaviour import BehaviourState

EGO_FEATURES = ("speed", "target_speed", "speed_limit", "lane_offset", "heading_error", "has_left_lane",
                "has_right_lane", "target_lane")
TRACK_FEATURES = ("present", "x", "y", "vx", "vy", "std_x", "std_y", "lane", "lane_offset")


@dataclass(frozen=True)
class ObservationConfig:
    """Size of the track table and the normalisation scales."""

    max_tracks: int = 8
    range_m: float = 100.0
    lateral_range_m: float = 15.0
    speed_scale_mps: float = 40.0
    rel_speed_scale_mps: float = 20.0
    std_scale_m: float = 5.0

    @property
    def size(self) -> int:
        return len(EGO_FEATURES) + self.max_tracks * len(TRACK_FEATURES)

    @property
    def layout_id(self) -> str:
        """Names everything that changes the meaning of an index of the vector."""
        return (f"drivestack-obs-v1|ego={','.join(EGO_FEATURES)}|track={','.join(TRACK_FEATURES)}"
                f"|K={self.max_tracks}|range={self.range_m:g},{self.lateral_range_m:g}"
                f"|scales={self.speed_scale_mps:g},{self.rel_speed_scale_mps:g},{self.std_scale_m:g}")


def observe(world: WorldModel, state: BehaviourState | None, cfg: ObservationConfig = ObservationConfig()
            ) -> np.ndarray:
    """The observation vector (``cfg.size``,) float32 in [-1, 1]."""
    ego_lane = world.ego_lane_id if world.ego_lane_id in world.lane_map.lanes else None
    vec = np.concatenate([_ego_features(world, ego_lane, state, cfg), _track_table(world, ego_lane, cfg).ravel()])
    return np.clip(vec, -1.0, 1.0).astype(np.float32)


def _ego_features(world: WorldModel, ego_lane: str | None, state: BehaviourState | None,
                  cfg: ObservationConfig) -> np.ndarray:
    ego = world.ego
    out = np.zeros(len(EGO_FEATURES))
    out[0] = ego.speed_mps / cfg.speed_scale_mps
    if ego_lane is None:
        return out
    lane = world.lane_map.lanes[ego_lane]
    pos = locate(world.lane_map, ego.x_m, ego.y_m, (ego_lane,))
    target_speed = state.target_speed_mps if state is not None else lane.speed_limit_mps
    out[1] = target_speed / cfg.speed_scale_mps
    out[2] = lane.speed_limit_mps / cfg.speed_scale_mps
    out[3] = pos.offset_m / (lane.width_m / 2.0)
    out[4] = wrap_angle(ego.yaw_rad - pos.heading_rad) / (np.pi / 4.0)
    out[5] = float(lane.left_id is not None)
    out[6] = float(lane.right_id is not None)
    if state is not None and state.target_lane_id is not None:
        out[7] = np.clip(_relative_lane(world.lane_map, ego_lane, state.target_lane_id, 0.0), -1, 1)
    return out


def _track_table(world: WorldModel, ego_lane: str | None, cfg: ObservationConfig) -> np.ndarray:
    ego = world.ego
    table = np.zeros((cfg.max_tracks, len(TRACK_FEATURES)))
    if not world.tracks:
        return table
    c, s = np.cos(ego.yaw_rad), np.sin(ego.yaw_rad)
    rot = np.array([[c, s], [-s, c]])  # map -> ego frame
    rel = (world.tracks_array()[:, :2] - [ego.x_m, ego.y_m]) @ rot.T
    inside = (np.abs(rel[:, 0]) <= cfg.range_m) & (np.abs(rel[:, 1]) <= cfg.lateral_range_m)
    ids = np.array([t.track_id for t in world.tracks])
    order = [int(i) for i in np.lexsort((ids, np.hypot(rel[:, 0], rel[:, 1]))) if inside[i]][: cfg.max_tracks]
    ego_v = np.array([ego.speed_mps * c, ego.speed_mps * s])
    for row, i in enumerate(order):
        table[row] = _track_row(world.tracks[i], rel[i], rot, ego_v, world.lane_map, ego_lane, cfg)
    return table


def _track_row(track: Track, rel_xy: np.ndarray, rot: np.ndarray, ego_v: np.ndarray, lane_map: LaneMap,
               ego_lane: str | None, cfg: ObservationConfig) -> np.ndarray:
    dv = rot @ (np.array([track.vx_mps, track.vy_mps]) - ego_v)
    cov = rot @ np.asarray(track.covariance)[:2, :2] @ rot.T
    std = np.sqrt(np.maximum(np.diag(cov), 0.0))
    lane_rel, offset = 0.0, 0.0
    if track.lane_id in lane_map.lanes:
        offset = track.lane_offset_m / (lane_map.lanes[track.lane_id].width_m / 2.0)
    if ego_lane is not None:
        lane_rel = _relative_lane(lane_map, ego_lane, track.lane_id, rel_xy[1])
    return np.array([1.0, rel_xy[0] / cfg.range_m, rel_xy[1] / cfg.lateral_range_m, dv[0] / cfg.rel_speed_scale_mps,
                     dv[1] / cfg.rel_speed_scale_mps, std[0] / cfg.std_scale_m, std[1] / cfg.std_scale_m,
                     np.clip(lane_rel, -2, 2) / 2.0, offset])


def _relative_lane(lane_map: LaneMap, ego_lane: str, other: str | None, lateral_m: float) -> float:
    """Lanes to the left (+) / right (-) of the ego's lane, walking neighbours; a lane not on the
    ego's road segment falls back to the lateral distance in lane widths."""
    if other == ego_lane:
        return 0.0
    for sign, attr in ((1.0, "left_id"), (-1.0, "right_id")):
        lane, steps = lane_map.lanes[ego_lane], 0
        while getattr(lane, attr) is not None and steps < 4:
            steps += 1
            if getattr(lane, attr) == other:
                return sign * steps
            lane = lane_map.lanes[getattr(lane, attr)]
    return float(np.round(lateral_m / lane_map.lanes[ego_lane].width_m))
