"""Safety mask for behaviour decisions: which of the nine behaviours an RL policy may pick now.

The policy decides lane changes and target speeds (``planning.behaviour``); IDM then keeps the gap to
the leader on the chosen path, but nothing else checks the gap a lane change enters. The mask does,
on the world model, before the policy's choice is executed:

- a lane change is offered only when the gap it enters is safe: on the target lane's centre line,
  the nearest vehicle ahead of the ego and the nearest behind it (within half a lane width plus half
  their width of the centre line) are each at least ``min_gap_front_m`` / ``min_gap_rear_m`` away
  (bumper to bumper) and, when closing, at least ``min_ttc_front_s`` / ``min_ttc_rear_s`` from
  contact at today's speeds;
- "faster" is offered only with a safe headway on the lane the ego is driving to: its leader at least
  ``min_headway_s`` times the ego's speed away (and ``min_gap_front_m``), and at least
  ``min_ttc_front_s`` from contact when closing;
- keeping the lane at the same or a lower target speed is always offered, so some action is always
  allowed, and a lane change the road does not allow (no lane there) is a no-op and stays allowed.

A lane change already under way is re-checked every tick by the executor (``BehaviourPlanner``),
which aborts it, back to the ego's lane, once its gap fails the same test.
The rule planner does not use the mask: it checks every proposal by forward simulation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fusion.lanes import interpolate, project


@dataclass(frozen=True)
class SafetyMaskConfig:
    """Thresholds of the behaviour mask (SI units)."""

    enabled: bool = True
    min_gap_front_m: float = field(default=8.0, metadata={"range": (0.0, 200.0)})
    """Bumper gap to the nearest vehicle ahead on the target lane [m]."""
    min_gap_rear_m: float = field(default=8.0, metadata={"range": (0.0, 200.0)})
    """Bumper gap to the nearest vehicle behind on the target lane [m]."""
    min_ttc_front_s: float = field(default=4.0, metadata={"range": (0.0, 60.0)})
    """Time to contact with the vehicle ahead when the ego closes in on it [s]."""
    min_ttc_rear_s: float = field(default=4.0, metadata={"range": (0.0, 60.0)})
    """Time to contact of the vehicle behind when it closes in on the ego [s]."""
    min_headway_s: float = field(default=1.5, metadata={"range": (0.0, 10.0)})
    """'faster' needs the leader at least this many seconds ahead at the ego's speed [s]."""


@dataclass(frozen=True)
class LaneGap:
    """The gap around the ego on one lane: bumper distances [m] (inf: nobody) and closing speeds
    [m/s] (positive: the gap shrinks) to the nearest vehicle ahead and behind."""

    front_m: float
    front_closing_mps: float
    rear_m: float
    rear_closing_mps: float


def lane_gap(points_m: np.ndarray, s_m: np.ndarray, half_width_m: float, ego: np.ndarray,
             tracks: np.ndarray) -> LaneGap:
    """The gap on a lane centre line (``points_m`` (N, 2), ``s_m`` (N,)) around the ego
    ``[x, y, yaw, speed, length]`` with ``tracks`` (M, 7): x, y, vx, vy, yaw, length, width; speeds
    are taken along the lane."""
    s_ego, _ = project(points_m, s_m, ego[None, :2])
    _, heading = interpolate(points_m, s_m, s_ego)
    v_ego = float(ego[3] * np.cos(ego[2] - heading[0]))
    if len(tracks) == 0:
        return LaneGap(float("inf"), 0.0, float("inf"), 0.0)
    s, d = project(points_m, s_m, tracks[:, :2])
    _, yaw = interpolate(points_m, s_m, s)
    v_along = tracks[:, 2] * np.cos(yaw) + tracks[:, 3] * np.sin(yaw)
    on_lane = np.abs(d) <= half_width_m + tracks[:, 6] / 2.0
    ds = s - s_ego[0]
    bumper = np.abs(ds) - (ego[4] + tracks[:, 5]) / 2.0
    front, rear = on_lane & (ds >= 0.0), on_lane & (ds < 0.0)
    return LaneGap(*_nearest(bumper, v_ego - v_along, front), *_nearest(bumper, v_along - v_ego, rear))


def _nearest(bumper: np.ndarray, closing: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    if not mask.any():
        return float("inf"), 0.0
    k = int(np.argmin(np.where(mask, bumper, np.inf)))
    return float(bumper[k]), float(closing[k])


def _clears(gap_m: float, closing_mps: float, min_gap_m: float, min_ttc_s: float) -> bool:
    return gap_m >= min_gap_m and (closing_mps <= 0.0 or gap_m / closing_mps >= min_ttc_s)


def gap_is_safe(gap: LaneGap, cfg: SafetyMaskConfig) -> bool:
    """Whether a lane change may enter this gap."""
    return (_clears(gap.front_m, gap.front_closing_mps, cfg.min_gap_front_m, cfg.min_ttc_front_s)
            and _clears(gap.rear_m, gap.rear_closing_mps, cfg.min_gap_rear_m, cfg.min_ttc_rear_s))


def headway_is_safe(gap: LaneGap, ego_speed_mps: float, cfg: SafetyMaskConfig) -> bool:
    """Whether the target speed may rise with this leader ahead."""
    min_gap = max(cfg.min_gap_front_m, cfg.min_headway_s * ego_speed_mps)
    return _clears(gap.front_m, gap.front_closing_mps, min_gap, cfg.min_ttc_front_s)


def behaviour_mask(lane_change_ok: dict[int, bool], faster_ok: bool) -> np.ndarray:
    """Allowed flags (9,) in ``planning.behaviour.BEHAVIOURS`` order (lane keep/left/right x speed
    hold/faster/slower) from the per-direction lane-change verdicts (+1 left, -1 right)."""
    lane_ok = np.array([True, lane_change_ok[1], lane_change_ok[-1]])
    speed_ok = np.array([True, faster_ok, True])
    return (lane_ok[:, None] & speed_ok[None, :]).ravel()


def safe_substitute(action: int, mask: np.ndarray) -> int:
    """The action executed instead of a masked one: its speed change in the own lane if allowed,
    else keep lane and speed (always allowed)."""
    speed = action % 3
    return speed if mask[speed] else 0
