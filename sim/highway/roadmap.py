"""Convert highway-env's road network into the project's LaneMap (map frame)."""
from __future__ import annotations

import numpy as np

from fusion.lanes import arc_length, project
from fusion.types import Lane, LaneMap
from sim.highway.frames import he_to_map_xy, lane_id

DEFAULT_SPEED_LIMIT_MPS = 20.0
SAMPLE_SPACING_M = 1.0


def _sample_centerline(lane) -> np.ndarray:
    """Centre-line points (N, 2) in highway-env coordinates; straight lanes need only their ends."""
    from highway_env.road.lane import StraightLane

    if type(lane) is StraightLane:  # SineLane subclasses StraightLane but is curved
        return np.array([lane.position(0.0, 0.0), lane.position(lane.length, 0.0)])
    n = max(2, int(np.ceil(lane.length / SAMPLE_SPACING_M)) + 1)
    return np.array([lane.position(s, 0.0) for s in np.linspace(0.0, lane.length, n)])


def _side(points: np.ndarray, s: np.ndarray, other_start: np.ndarray) -> float:
    """Signed lateral offset of another lane's mid point from this lane (positive: left)."""
    return float(project(points, s, other_start[None])[1][0])


def build_lane_map(network) -> LaneMap:
    """LaneMap of every lane in a highway-env ``RoadNetwork``, with neighbours and successors."""
    raw: dict[str, tuple[str, str, np.ndarray, float, float]] = {}
    for frm, tos in network.graph.items():
        for to, lanes in tos.items():
            for idx, lane in enumerate(lanes):
                pts = he_to_map_xy(_sample_centerline(lane))
                width = float(lane.width_at(0.0))
                limit = float(lane.speed_limit) if lane.speed_limit is not None else DEFAULT_SPEED_LIMIT_MPS
                raw[lane_id((frm, to, idx))] = (frm, to, pts, width, limit)
    lanes = {lid: _make_lane(lid, raw) for lid in raw}
    return LaneMap(lanes=lanes)


def _make_lane(lid: str, raw: dict) -> Lane:
    frm, to, pts, width, limit = raw[lid]
    s = arc_length(pts)
    left, right = _neighbours(lid, raw, pts, s)
    successors = _successors(to, pts[-1], raw)
    return Lane(lid, frm, to, pts, s, width, limit, left, right, successors)


def _successors(to_node: str, end: np.ndarray, raw: dict, max_gap_m: float = 15.0) -> tuple[str, ...]:
    """Lanes leaving this lane's end node, nearest start first (highway-env links lanes by node,
    and some joins, such as roundabout entries, leave a gap of a few metres)."""
    gaps = sorted((float(np.linalg.norm(p2[0] - end)), other) for other, (f2, _, p2, _, _) in raw.items()
                  if f2 == to_node)
    return tuple(other for gap, other in gaps if gap < max_gap_m)


def _neighbours(lid: str, raw: dict, pts: np.ndarray, s: np.ndarray) -> tuple[str | None, str | None]:
    """Closest lane of the same road segment on each side (within 1.5 lane widths)."""
    frm, to, _, width, _ = raw[lid]
    best_left, best_right = (None, np.inf), (None, np.inf)
    mid_s = s[-1] / 2.0
    for other, (f2, t2, p2, _, _) in raw.items():
        if other == lid or (f2, t2) != (frm, to):
            continue
        mid = np.array([np.interp(mid_s, arc_length(p2), p2[:, 0]), np.interp(mid_s, arc_length(p2), p2[:, 1])])
        d = _side(pts, s, mid)
        if 0.0 < d < 1.5 * width and d < best_left[1]:
            best_left = (other, d)
        if -1.5 * width < d < 0.0 and -d < best_right[1]:
            best_right = (other, -d)
    return best_left[0], best_right[0]
