"""Road-surface texture around the ego: grass, asphalt and lane markings drawn from the lane map.

The camera and lidar hit the ground plane analytically; what they see there is looked up in this
ego-centred raster, redrawn each tick with OpenCV from lane boundaries sampled once per episode.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from fusion.lanes import interpolate
from fusion.types import LaneMap

GRASS, ROAD, MARKING = 0, 1, 2
DASH_M, PERIOD_M = 3.0, 9.0


@dataclass(frozen=True)
class _LaneSamples:
    center: np.ndarray       # (M, 2) map frame, ~1 m apart
    left: np.ndarray         # (M, 2) left boundary
    right: np.ndarray        # (M, 2) right boundary
    left_solid: bool
    right_solid: bool
    width_m: float
    s: np.ndarray


def _sample_lane(lane, step_m: float = 1.0) -> _LaneSamples:
    s = np.arange(0.0, lane.length_m + step_m, step_m)
    xy, yaw = interpolate(lane.centerline_m, lane.s_m, s)
    normal = np.stack([-np.sin(yaw), np.cos(yaw)], axis=1) * (lane.width_m / 2.0)
    return _LaneSamples(xy, xy + normal, xy - normal, lane.left_id is None, lane.right_id is None, lane.width_m, s)


class RoadTexture:
    """Draws the class raster (GRASS / ROAD / MARKING) of a square window around the ego."""

    def __init__(self, lane_map: LaneMap, resolution_m: float = 0.2, half_size_m: float = 110.0) -> None:
        self.res = resolution_m
        self.half = half_size_m
        self.n = int(round(2 * half_size_m / resolution_m))
        self._lanes = [_sample_lane(lane) for lane in lane_map.lanes.values()]
        self._all_center = np.concatenate([ln.center for ln in self._lanes]) if self._lanes else np.zeros((0, 2))
        self._owner = np.concatenate([np.full(len(ln.center), i) for i, ln in enumerate(self._lanes)]) \
            if self._lanes else np.zeros(0, int)

    def render(self, ego_xy: np.ndarray, ego_yaw: float) -> np.ndarray:
        """(n, n) uint8 raster; cell (r, c) covers ego-frame point (x, y) = (half - (r+0.5)res, half - (c+0.5)res)."""
        img = np.zeros((self.n, self.n), np.uint8)
        near = np.hypot(*(self._all_center - ego_xy).T) < self.half * 1.5 + 10.0
        for i in np.unique(self._owner[near]):
            self._draw_lane(img, self._lanes[i], near[self._owner == i], ego_xy, ego_yaw)
        return img

    def _to_px(self, pts: np.ndarray, ego_xy: np.ndarray, ego_yaw: float) -> np.ndarray:
        c, s = np.cos(ego_yaw), np.sin(ego_yaw)
        d = pts - ego_xy
        x = c * d[:, 0] + s * d[:, 1]
        y = -s * d[:, 0] + c * d[:, 1]
        return np.stack([(self.half - y) / self.res, (self.half - x) / self.res], axis=1)  # (col, row)

    def _draw_lane(self, img: np.ndarray, ln: _LaneSamples, mask: np.ndarray, ego_xy, ego_yaw) -> None:
        idx = np.flatnonzero(mask)
        idx = np.arange(max(idx.min() - 1, 0), min(idx.max() + 2, len(ln.center)))
        to_px = lambda p: np.round(self._to_px(p[idx], ego_xy, ego_yaw) * 4).astype(np.int32)  # noqa: E731
        thick = max(1, int(round(ln.width_m / self.res)))
        cv2.polylines(img, [to_px(ln.center)], False, ROAD, thick, cv2.LINE_8, shift=2)
        line = max(2, int(round(0.3 / self.res)))  # >= 2 px so the line has no diagonal gaps
        for boundary, solid in ((ln.left, ln.left_solid), (ln.right, ln.right_solid)):
            pts = to_px(boundary)
            if solid:
                cv2.polylines(img, [pts], False, MARKING, line, cv2.LINE_8, shift=2)
            else:
                dash = (ln.s[idx] % PERIOD_M) < DASH_M
                segs = [pts[k:k + 2] for k in range(len(pts) - 1) if dash[k] and dash[k + 1]]
                if segs:
                    cv2.polylines(img, segs, False, MARKING, line, cv2.LINE_8, shift=2)

    def lookup(self, raster: np.ndarray, x_ego: np.ndarray, y_ego: np.ndarray) -> np.ndarray:
        """Classes at ego-frame ground points (outside the window: GRASS)."""
        r = np.floor((self.half - x_ego) / self.res).astype(np.int64)
        c = np.floor((self.half - y_ego) / self.res).astype(np.int64)
        ok = (r >= 0) & (r < self.n) & (c >= 0) & (c < self.n)
        out = np.full(x_ego.shape, GRASS, np.uint8)
        out[ok] = raster[r[ok], c[ok]]
        return out
