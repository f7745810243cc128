"""World-model types: what perception + fusion hand to planning.

Frames: everything is in the fixed map frame (right-handed, x forward along the road at episode
start, y left, z up) unless a name says otherwise. Units are SI and stated on each field.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np


@dataclass(frozen=True)
class EgoState:
    """Ego vehicle state in the map frame."""

    stamp: float
    """Time since episode start [s]."""
    x_m: float
    y_m: float
    yaw_rad: float
    speed_mps: float
    accel_mps2: float = 0.0
    yaw_rate_radps: float = 0.0
    steering_rad: float = 0.0
    length_m: float = 5.0
    width_m: float = 2.0


@dataclass(frozen=True)
class Track:
    """One tracked vehicle in the map frame.

    ``covariance`` is the 4x4 covariance of the state ``[x_m, y_m, vx_mps, vy_mps]``.
    ``lane_id`` / ``lane_offset_m`` place it on the lane map (offset positive to the left of the
    lane centre line, [m]); ``lane_id`` is None when it is on no lane. ``status`` is "confirmed"
    when a detection updated it this tick, "coasting" when it is predicted only.
    ``existence_prob`` is the probability that the track is a real vehicle, fused from every sensor's
    hits and misses (1 for ground truth); ``score`` is the confidence of this tick's box, in [0, 1]:
    the existence probability times the score of the detection that updated it (coasting: times the
    tracker's ``coast_score``; 1 for ground truth); ``z_m`` / ``height_m`` give its box's centre
    height and height [m].
    """

    track_id: int
    x_m: float
    y_m: float
    vx_mps: float
    vy_mps: float
    yaw_rad: float
    length_m: float
    width_m: float
    covariance: np.ndarray
    lane_id: str | None = None
    lane_offset_m: float = 0.0
    status: str = "confirmed"
    existence_prob: float = 1.0
    z_m: float = 0.8
    height_m: float = 1.6
    score: float = 1.0

    @property
    def speed_mps(self) -> float:
        return float(np.hypot(self.vx_mps, self.vy_mps))


@dataclass(frozen=True)
class Lane:
    """A lane of the road network, sampled as a centre line in the map frame.

    ``centerline_m`` is (N, 2) [m], ``s_m`` (N,) the arc length along it [m]. Neighbours are ids of
    lanes on the same road segment; successors are lanes that continue from this lane's end.
    """

    lane_id: str
    from_node: str
    to_node: str
    centerline_m: np.ndarray
    s_m: np.ndarray
    width_m: float
    speed_limit_mps: float
    left_id: str | None = None
    right_id: str | None = None
    successor_ids: tuple[str, ...] = ()

    @property
    def length_m(self) -> float:
        return float(self.s_m[-1])


@dataclass(frozen=True)
class LaneMap:
    """Static lane graph of one episode. ``lanes`` maps lane id to ``Lane``."""

    lanes: Mapping[str, Lane]


@dataclass(frozen=True)
class WorldModel:
    """Everything planning sees at one tick.

    ``route_nodes`` is the node sequence the ego intends to follow through the road network
    (empty: follow any successor). ``source`` names what produced it (ground_truth, perception...).
    """

    stamp: float
    ego: EgoState
    tracks: tuple[Track, ...]
    lane_map: LaneMap
    ego_lane_id: str | None
    route_nodes: tuple[str, ...] = ()
    source: str = "ground_truth"
    track_arrays: dict = field(default_factory=dict, compare=False, repr=False)

    def tracks_array(self) -> np.ndarray:
        """Tracks as an (N, 7) float array: x, y, vx, vy, yaw, length, width (map frame, SI)."""
        if "xyvv" not in self.track_arrays:
            arr = np.array(
                [[t.x_m, t.y_m, t.vx_mps, t.vy_mps, t.yaw_rad, t.length_m, t.width_m] for t in self.tracks],
                dtype=float,
            ).reshape(-1, 7)
            self.track_arrays["xyvv"] = arr
        return self.track_arrays["xyvv"]
