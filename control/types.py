"""Types that flow out of planning into control: trajectories and actuator commands.

All poses are in the fixed map frame (x forward along the road at episode start, y left, z up).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


class PoseLike(Protocol):
    """Anything with a stamp, planar pose and speed (e.g. ``fusion.EgoState``)."""

    stamp: float
    x_m: float
    y_m: float
    yaw_rad: float
    speed_mps: float


@dataclass(frozen=True)
class Command:
    """Actuator command for one control tick."""

    stamp: float
    """Time since episode start [s]."""
    accel_mps2: float
    """Longitudinal acceleration [m/s^2]."""
    steering_rad: float
    """Front-wheel steering angle [rad], positive turns left."""


@dataclass(frozen=True)
class Trajectory:
    """Timed poses and speeds, shape (N,) per field, in the map frame.

    ``t_s`` are absolute stamps [s]; ``xy_m`` is (N, 2) [m]; ``yaw_rad`` (N,) [rad];
    ``speed_mps`` (N,) [m/s]. Poses are dense enough (<= 2 m apart) to track directly.
    """

    t_s: np.ndarray
    xy_m: np.ndarray
    yaw_rad: np.ndarray
    speed_mps: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.t_s)
        if n < 2:
            raise ValueError("a Trajectory needs at least two poses")
        if self.xy_m.shape != (n, 2) or self.yaw_rad.shape != (n,) or self.speed_mps.shape != (n,):
            raise ValueError(
                f"Trajectory shapes disagree: t {self.t_s.shape}, xy {self.xy_m.shape}, "
                f"yaw {self.yaw_rad.shape}, speed {self.speed_mps.shape}"
            )

    def __len__(self) -> int:
        return len(self.t_s)


@dataclass(frozen=True)
class VehicleParams:
    """Geometry and actuator limits of a car-like vehicle (defaults match highway-env's car)."""

    length_m: float = 5.0
    width_m: float = 2.0
    rear_to_cg_m: float = 2.5
    """Distance from rear axle to centre of gravity [m]; highway-env uses length / 2."""
    max_accel_mps2: float = 3.0
    min_accel_mps2: float = -6.0
    max_steering_rad: float = 0.5
    max_steering_rate_radps: float = 1.0
    max_jerk_mps3: float = 15.0
