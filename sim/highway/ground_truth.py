"""Ground-truth world model: read highway-env's state and express it in the project's types."""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from fusion.types import EgoState, Track
from sim.highway.frames import he_to_map_heading, he_to_map_steering, lane_id

GT_COVARIANCE = np.diag([0.01, 0.01, 0.01, 0.01])
"""Ground truth is exact; a small diagonal keeps downstream Mahalanobis maths well posed."""


@dataclass(frozen=True)
class VehicleSnapshot:
    """One highway-env vehicle in the map frame (SI units)."""

    x_m: float
    y_m: float
    yaw_rad: float
    speed_mps: float
    length_m: float
    width_m: float
    lane_id: str | None
    lane_offset_m: float


def snapshot(vehicle) -> VehicleSnapshot:
    """Map-frame snapshot of a highway-env vehicle (y and heading mirrored)."""
    x, y = vehicle.position
    lane_offset = 0.0
    lid = None
    if vehicle.lane_index is not None and vehicle.lane is not None:
        lid = lane_id(vehicle.lane_index)
        lane_offset = -float(vehicle.lane.local_coordinates(vehicle.position)[1])
    return VehicleSnapshot(float(x), -float(y), float(he_to_map_heading(vehicle.heading)), float(vehicle.speed),
                           float(vehicle.LENGTH), float(vehicle.WIDTH), lid, lane_offset)


def ego_state(vehicle, snap: VehicleSnapshot, stamp: float) -> EgoState:
    action = getattr(vehicle, "action", None) or {}
    return EgoState(stamp=stamp, x_m=snap.x_m, y_m=snap.y_m, yaw_rad=snap.yaw_rad, speed_mps=snap.speed_mps,
                    accel_mps2=float(action.get("acceleration", 0.0)),
                    steering_rad=float(he_to_map_steering(action.get("steering", 0.0))),
                    length_m=snap.length_m, width_m=snap.width_m)


@dataclass(frozen=True)
class EgoLane:
    """The ego's lane as highway-env sees it at capture time (for the driving metrics)."""

    width_m: float
    heading_rad: float
    """Map-frame heading of the lane at the ego's foot point [rad] (the ego's own yaw off-lane)."""
    on_road: bool
    speed_limit_mps: float


def ego_lane(vehicle, snap: VehicleSnapshot) -> EgoLane:
    lane = vehicle.lane
    if lane is None:
        return EgoLane(4.0, snap.yaw_rad, bool(vehicle.on_road), 20.0)
    heading = -float(lane.heading_at(lane.local_coordinates(vehicle.position)[0]))
    limit = float(lane.speed_limit) if lane.speed_limit is not None else 20.0
    return EgoLane(float(lane.width_at(0.0)), heading, bool(vehicle.on_road), limit)


@dataclass(frozen=True)
class GroundTruthFrame:
    """The simulator's true state at one tick, read once and shared by every consumer.

    ``others`` holds (vehicle, snapshot) pairs within range; ``others_array`` is (N, 7):
    x, y, vx, vy, yaw, length, width in the map frame.
    """

    stamp: float
    ego_vehicle: object
    ego: VehicleSnapshot
    others: tuple
    others_array: np.ndarray
    ids: tuple[int, ...]
    """Stable per-episode id of each vehicle in ``others``."""
    ego_lane: EgoLane | None = None
    ego_state: EgoState | None = None
    """The ego as the project's type, read at capture time (``ego_vehicle`` is live and moves on)."""


class VehicleIds:
    """Stable integer ids (1, 2, ...) for highway-env vehicles over one episode."""

    def __init__(self) -> None:
        self._ids: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._next = 1

    def __call__(self, vehicle) -> int:
        if vehicle not in self._ids:
            self._ids[vehicle] = self._next
            self._next += 1
        return self._ids[vehicle]


def capture(env, stamp: float, ids: VehicleIds, range_m: float = 150.0) -> GroundTruthFrame:
    """Read the ego and the vehicles within ``range_m`` [m] of it."""
    base = env.unwrapped
    ego = base.vehicle
    pairs = tuple((v, snapshot(v)) for v in other_vehicles(base.road, ego, range_m))
    arr = np.array([[s.x_m, s.y_m, s.speed_mps * np.cos(s.yaw_rad), s.speed_mps * np.sin(s.yaw_rad),
                     s.yaw_rad, s.length_m, s.width_m] for _, s in pairs], dtype=float).reshape(-1, 7)
    snap = snapshot(ego)
    return GroundTruthFrame(stamp, ego, snap, pairs, arr, tuple(ids(v) for v, _ in pairs), ego_lane(ego, snap),
                            ego_state(ego, snap, stamp))


def other_vehicles(road, ego, range_m: float) -> list:
    ex, ey = ego.position
    return [v for v in road.vehicles
            if v is not ego and abs(v.position[0] - ex) < range_m and abs(v.position[1] - ey) < range_m]


def make_track(track_id: int, s: VehicleSnapshot) -> Track:
    vx, vy = s.speed_mps * np.cos(s.yaw_rad), s.speed_mps * np.sin(s.yaw_rad)
    return Track(track_id, s.x_m, s.y_m, float(vx), float(vy), s.yaw_rad, s.length_m, s.width_m,
                 GT_COVARIANCE, s.lane_id, s.lane_offset_m)
