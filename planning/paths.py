"""Reference paths along lane centre lines, continued through successors along the route."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusion.lanes import arc_length, interpolate, project
from fusion.types import LaneMap


@dataclass(frozen=True)
class LaneChain:
    """A lane and its successors joined into one polyline (map frame)."""

    lane_ids: tuple[str, ...]
    points_m: np.ndarray
    s_m: np.ndarray
    width_m: float
    speed_limit_mps: float
    on_route: bool


def _next_lane(lane_map: LaneMap, lane_id: str, route_nodes: tuple[str, ...]) -> tuple[str | None, bool]:
    """Successor of a lane, preferring the one that follows the route; (id, whether on route)."""
    lane = lane_map.lanes[lane_id]
    if not lane.successor_ids:
        return None, True
    if route_nodes:
        for succ in lane.successor_ids:
            nxt = lane_map.lanes[succ]
            for i in range(len(route_nodes) - 1):
                if (nxt.from_node, nxt.to_node) == (route_nodes[i], route_nodes[i + 1]):
                    return succ, True
        return lane.successor_ids[0], lane.to_node not in route_nodes[:-1]
    return lane.successor_ids[0], True


def build_chain(lane_map: LaneMap, lane_id: str, route_nodes: tuple[str, ...], min_length_m: float) -> LaneChain:
    """Join ``lane_id`` with successors until the chain is at least ``min_length_m`` long."""
    ids, pieces, on_route = [lane_id], [lane_map.lanes[lane_id].centerline_m], True
    total = lane_map.lanes[lane_id].length_m
    while total < min_length_m and len(ids) < 20:
        nxt, ok = _next_lane(lane_map, ids[-1], route_nodes)
        if nxt is None or nxt in ids:
            break
        on_route &= ok
        ids.append(nxt)
        pts = lane_map.lanes[nxt].centerline_m
        pieces.append(pts[1:] if np.linalg.norm(pts[0] - pieces[-1][-1]) < 0.5 else pts)
        total += lane_map.lanes[nxt].length_m
    points = np.concatenate(pieces, axis=0)
    first = lane_map.lanes[lane_id]
    return LaneChain(tuple(ids), points, arc_length(points), first.width_m, first.speed_limit_mps, on_route)


_U_TURN_COS = -0.5
"""A successor that starts turned by more than 120 degrees from its lane's end is a U-turn."""


def _ahead(lane_map: LaneMap, lane_id: str) -> list[str]:
    """Successors of a lane that carry on from it: not U-turns. An intersection's exit lane ends at the
    node its entry lane starts from, so without this every lane of a junction lay on a 'cycle'."""
    pts = lane_map.lanes[lane_id].centerline_m
    end = pts[-1] - pts[-2]
    out = []
    for succ in lane_map.lanes[lane_id].successor_ids:
        nxt = lane_map.lanes[succ].centerline_m
        start = nxt[1] - nxt[0]
        if float(end @ start) >= _U_TURN_COS * float(np.linalg.norm(end) * np.linalg.norm(start)):
            out.append(succ)
    return out


def reachable(lane_map: LaneMap, lane_id: str, max_steps: int) -> set[str]:
    """Lanes reached from ``lane_id`` by following successors (U-turns excluded) at most ``max_steps`` times."""
    frontier, seen = {lane_id}, set()
    for _ in range(max_steps):
        frontier = {succ for lid in frontier for succ in _ahead(lane_map, lid)} - seen
        if not frontier:
            break
        seen |= frontier
    return seen


def on_cycle(lane_map: LaneMap, lane_id: str, max_steps: int = 24) -> bool:
    """Whether following successors from ``lane_id`` can lead back to it (a roundabout's ring)."""
    return lane_id in reachable(lane_map, lane_id, max_steps)


def local_path(chain: LaneChain, x_m: float, y_m: float, length_m: float, spacing_m: float = 2.0
               ) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Path window starting at the point's projection onto the chain.

    Returns (xy (M, 2), yaw (M,), lateral offset of the point [m], remaining chain length [m]).
    """
    s0, d0 = project(chain.points_m, chain.s_m, np.array([[x_m, y_m]]))
    s_query = s0[0] + np.arange(0.0, length_m + spacing_m, spacing_m)
    xy, yaw = interpolate(chain.points_m, chain.s_m, s_query)
    remaining = float(chain.s_m[-1] - s0[0])
    if remaining < length_m:
        xy, yaw = _extend_straight(xy, yaw, s_query - s0[0], remaining)
    return xy, yaw, float(d0[0]), remaining


def blend_in(xy: np.ndarray, yaw: np.ndarray, offset_m: float, blend_length_m: float,
             slope: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Start a path at the ego's lateral ``offset_m`` from it and merge onto it smoothly.

    The offset follows a cubic Hermite curve over ``blend_length_m``: it starts at ``offset_m`` with
    lateral slope ``slope`` (d offset / d s, the tangent of the ego's heading relative to the path)
    and ends on the path with zero slope. With ``slope = 0`` this is a smoothstep, peak curvature
    about 6 * offset / length^2; matching the slope lets a lane change already under way continue
    instead of straightening out and curving again at every replan.
    """
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))])
    length = max(blend_length_m, 1e-6)
    u = np.clip(s / length, 0.0, 1.0)
    d = offset_m * (2.0 * u ** 3 - 3.0 * u ** 2 + 1.0) + slope * length * u * (1.0 - u) ** 2
    normal = np.stack([-np.sin(yaw), np.cos(yaw)], axis=1)
    out = xy + d[:, None] * normal
    seg = np.diff(out, axis=0)
    heading = np.arctan2(seg[:, 1], seg[:, 0])
    return out, np.concatenate([heading, heading[-1:]])


def _extend_straight(xy: np.ndarray, yaw: np.ndarray, ds: np.ndarray, remaining: float) -> tuple[np.ndarray, np.ndarray]:
    """Continue a path straight past the end of its chain (so short chains still give a full window)."""
    past = ds > remaining
    if not past.any() or past.all():
        return xy, yaw
    last = np.argmax(past) - 1
    heading = yaw[last]
    extra = ds[past] - ds[last]
    xy = xy.copy()
    yaw = yaw.copy()
    xy[past] = xy[last] + extra[:, None] * np.array([np.cos(heading), np.sin(heading)])
    yaw[past] = heading
    return xy, yaw
