"""Track predictions for the planner: constant speed along the track's lane, or constant velocity.

On straight roads both are the same. On curved lanes (roundabouts, turns) a straight-line
extrapolation sends a circulating car off the ring and hides the conflict at the entry, so a track
that sits on a curved lane keeps its speed along that lane's centre line (plus its lateral offset).
"""
from __future__ import annotations

import numpy as np

from fusion.lanes import interpolate, project
from fusion.types import LaneMap
from planning.paths import LaneChain, build_chain


def _is_straight(chain: LaneChain, tol_m: float = 0.2) -> bool:
    pts = chain.points_m
    if len(pts) <= 2:
        return True
    d = pts[1] - pts[0]  # the first segment's direction (a chain may close on itself)
    n = np.array([-d[1], d[0]]) / max(np.linalg.norm(d), 1e-9)
    return bool(np.abs((pts - pts[0]) @ n).max() < tol_m)


def constant_velocity(tracks: np.ndarray, times_s: np.ndarray) -> np.ndarray:
    """(N, K, 7) track states extrapolated at constant velocity to ``times_s`` (K,)."""
    out = np.repeat(tracks[:, None, :], len(times_s), axis=1)
    out[..., 0] += tracks[:, None, 2] * times_s[None]
    out[..., 1] += tracks[:, None, 3] * times_s[None]
    return out


class TrackPredictor:
    """Predicts (N, K, 7) track states [x, y, vx, vy, yaw, length, width] at given times."""

    def __init__(self) -> None:
        self._chains: dict[str, tuple[LaneChain, bool]] = {}
        self._map: LaneMap | None = None  # the map itself: an id() can be reused once it is freed

    def predict(self, tracks: np.ndarray, lane_ids: list[str | None], lane_map: LaneMap,
                times_s: np.ndarray) -> np.ndarray:
        if self._map is not lane_map:
            self._chains, self._map = {}, lane_map
        out = constant_velocity(tracks, times_s)
        for i, lane_id in enumerate(lane_ids):
            if lane_id is None or lane_id not in lane_map.lanes:
                continue
            chain, straight = self._chain(lane_map, lane_id, float(times_s[-1]) * 40.0 + 50.0)
            if not straight:
                out[i] = self._along_lane(tracks[i], chain, times_s)
        return out

    def _chain(self, lane_map: LaneMap, lane_id: str, length_m: float) -> tuple[LaneChain, bool]:
        if lane_id not in self._chains:
            chain = build_chain(lane_map, lane_id, (), length_m)
            self._chains[lane_id] = (chain, _is_straight(chain))
        return self._chains[lane_id]

    @staticmethod
    def _along_lane(track: np.ndarray, chain: LaneChain, times_s: np.ndarray) -> np.ndarray:
        s0, d0 = project(chain.points_m, chain.s_m, track[None, :2])
        speed = float(np.hypot(track[2], track[3]))
        xy, yaw = interpolate(chain.points_m, chain.s_m, s0[0] + speed * times_s)
        normal = np.column_stack([-np.sin(yaw), np.cos(yaw)])
        xy = xy + d0[0] * normal
        out = np.empty((len(times_s), 7))
        out[:, :2] = xy
        out[:, 2], out[:, 3] = speed * np.cos(yaw), speed * np.sin(yaw)
        out[:, 4] = yaw
        out[:, 5:] = track[5:]
        return out
