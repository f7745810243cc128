"""What the closed-loop runner records about one episode, for metrics and reports."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EpisodeLog:
    """Per-tick ego record of one closed-loop episode (map frame, SI units).

    All arrays have shape (T,): tick k is the state observed at ``t_s[k]`` (index 0 is the initial
    state, the last index the final state). ``min_ttc_s`` is the minimum time-to-collision to any
    other vehicle at that tick (``inf`` when none is on a collision course). ``lane_offset_m`` is the
    absolute lateral distance of the ego centre to the nearest lane centre line, ``lane_width_m`` that
    lane's width, ``lane_heading_rad`` its heading at the foot point, ``on_road`` whether the ego
    centre lies on any lane, ``speed_limit_mps`` the limit of that lane.
    """

    scenario: str
    planner: str
    world_model: str
    seed: int
    dt_s: float
    t_s: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    yaw_rad: np.ndarray
    speed_mps: np.ndarray
    min_ttc_s: np.ndarray
    lane_offset_m: np.ndarray
    lane_width_m: np.ndarray
    lane_heading_rad: np.ndarray
    on_road: np.ndarray
    speed_limit_mps: np.ndarray
    collided: bool
    at_fault_collision: bool
    collision_tick: int | None
    end_reason: str
    """'duration', 'collision', 'arrived' or 'off_road'."""
    duration_s: float
    """Planned episode length [s] (the scenario's duration)."""
