"""Polyline geometry on lane centre lines: projection, interpolation, lane lookup."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fusion.types import Lane, LaneMap


def arc_length(points_m: np.ndarray) -> np.ndarray:
    """Cumulative arc length (N,) [m] of an (N, 2) polyline."""
    seg = np.linalg.norm(np.diff(points_m, axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(seg)])


def project(points_m: np.ndarray, s_m: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project query points (M, 2) onto a polyline.

    Returns (s_m, d_m), each (M,): arc length of the foot point and signed lateral offset
    (positive left of the direction of travel) [m].
    """
    xy = np.atleast_2d(xy)
    a = points_m[:-1]
    ab = points_m[1:] - a
    seg_len2 = np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12)
    ap = xy[:, None, :] - a[None, :, :]
    t = np.clip(np.einsum("mij,ij->mi", ap, ab) / seg_len2, 0.0, 1.0)
    foot = a[None] + t[..., None] * ab[None]
    dist2 = np.sum((xy[:, None, :] - foot) ** 2, axis=-1)
    k = np.argmin(dist2, axis=1)
    rows = np.arange(len(xy))
    seg = ab[k]
    rel = xy - a[k]
    cross = seg[:, 0] * rel[:, 1] - seg[:, 1] * rel[:, 0]
    d = np.sqrt(dist2[rows, k]) * np.where(cross < 0.0, -1.0, 1.0)  # (sign(cross) is 0 in line with a segment)
    s = s_m[k] + t[rows, k] * np.sqrt(seg_len2[k])
    return s, d


def interpolate(points_m: np.ndarray, s_m: np.ndarray, s_query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions (M, 2) [m] and headings (M,) [rad] at arc lengths ``s_query`` (clamped)."""
    s_query = np.clip(s_query, s_m[0], s_m[-1])
    x = np.interp(s_query, s_m, points_m[:, 0])
    y = np.interp(s_query, s_m, points_m[:, 1])
    seg_yaw = np.arctan2(np.diff(points_m[:, 1]), np.diff(points_m[:, 0]))
    k = np.clip(np.searchsorted(s_m, s_query, side="right") - 1, 0, len(seg_yaw) - 1)
    return np.stack([x, y], axis=-1), seg_yaw[k]


@dataclass(frozen=True)
class LanePosition:
    """Where a point lies on the lane map."""

    lane_id: str
    s_m: float
    offset_m: float
    heading_rad: float
    in_lane: bool


def locate(lane_map: LaneMap, x_m: float, y_m: float, candidates: tuple[str, ...] | None = None) -> LanePosition | None:
    """Closest lane to a point (by |lateral offset| among lanes whose span covers it).

    Returns None when the map has no lane. ``in_lane`` is true when |offset| <= width / 2.
    """
    best: tuple[float, Lane, float, float] | None = None
    ids = candidates if candidates else tuple(lane_map.lanes)
    xy = np.array([[x_m, y_m]])
    for lane_id in ids:
        lane = lane_map.lanes[lane_id]
        if best is not None and _box_distance(lane.centerline_m, x_m, y_m) >= best[0]:
            continue  # its cost is at least its offset, at least this: it cannot win
        s, d = project(lane.centerline_m, lane.s_m, xy)
        s0, d0 = float(s[0]), float(d[0])
        cost = _cost(lane, s0, d0)
        if best is None or cost < best[0]:
            best = (cost, lane, s0, d0)
    if best is None:
        return None
    _, lane, s0, d0 = best
    _, heading = interpolate(lane.centerline_m, lane.s_m, np.array([s0]))
    return LanePosition(lane.lane_id, s0, d0, float(heading[0]), abs(d0) <= lane.width_m / 2)


def locate_many(lane_map: LaneMap, xy_m: np.ndarray, candidates: tuple[str, ...] | None = None
                ) -> list[LanePosition | None]:
    """``locate`` for map points (M, 2) [m] at once: each lane projects all of them in one pass (a few
    dozen array operations per lane, whatever M), the first lane of the least cost winning ties."""
    xy = np.asarray(xy_m, float).reshape(-1, 2)
    lanes = [lane_map.lanes[i] for i in (candidates if candidates else tuple(lane_map.lanes))]
    if not lanes:
        return [None] * len(xy)
    best_cost, best_lane = np.full(len(xy), np.inf), np.zeros(len(xy), int)
    best_s, best_d = np.zeros(len(xy)), np.zeros(len(xy))
    for k, lane in enumerate(lanes):
        s, d = project(lane.centerline_m, lane.s_m, xy)
        cost = _cost(lane, s, d)
        better = (cost < best_cost) | (k == 0)
        best_cost[better], best_lane[better], best_s[better], best_d[better] = cost[better], k, s[better], d[better]
    out: list[LanePosition | None] = [None] * len(xy)
    for k in np.unique(best_lane).tolist():
        rows, lane = np.flatnonzero(best_lane == k), lanes[k]
        _, heading = interpolate(lane.centerline_m, lane.s_m, best_s[rows])
        for r, h in zip(rows.tolist(), heading.tolist()):
            s0, d0 = float(best_s[r]), float(best_d[r])
            out[r] = LanePosition(lane.lane_id, s0, d0, h, abs(d0) <= lane.width_m / 2)
    return out


def _cost(lane: Lane, s_m, d_m):
    """How far a point at arc length ``s_m`` and offset ``d_m`` [m] of ``lane`` is from lying on it: |offset|
    plus 10 x its overshoot past either end (scalars or arrays)."""
    return np.abs(d_m) + 10.0 * np.maximum(0.0, np.maximum(lane.s_m[0] - s_m, s_m - lane.s_m[-1]))


def _box_distance(points_m: np.ndarray, x_m: float, y_m: float) -> float:
    """Distance [m] from (x_m, y_m) to the axis-aligned bounding box of points (N, 2): at most the distance to
    any polyline through them."""
    (x0, y0), (x1, y1) = points_m.min(axis=0).tolist(), points_m.max(axis=0).tolist()
    return math.hypot(max(x0 - x_m, 0.0, x_m - x1), max(y0 - y_m, 0.0, y_m - y1))
