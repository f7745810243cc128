"""Map a project ``Command`` onto highway-env's normalised ContinuousAction, safely."""
from __future__ import annotations

import numpy as np

from control.types import Command, VehicleParams
from sim.highway.frames import map_to_he_steering


def action_ranges(vehicle: VehicleParams) -> tuple[tuple[float, float], float]:
    """(acceleration range [m/s^2], steering limit [rad]) configured on the ContinuousAction."""
    return (vehicle.min_accel_mps2, vehicle.max_accel_mps2), vehicle.max_steering_rad


def command_to_action(cmd: Command | None, vehicle: VehicleParams) -> np.ndarray:
    """Normalised [accel, steering] in [-1, 1]. A missing or non-finite command brakes fully with
    straight wheels; out-of-range values are clipped, so nothing unsafe reaches the environment."""
    lo, hi = vehicle.min_accel_mps2, vehicle.max_accel_mps2
    accel = cmd.accel_mps2 if cmd is not None and np.isfinite(cmd.accel_mps2) else lo
    steer = cmd.steering_rad if cmd is not None and np.isfinite(cmd.steering_rad) else 0.0
    accel = float(np.clip(accel, lo, hi))
    steer_he = float(np.clip(map_to_he_steering(steer), -vehicle.max_steering_rad, vehicle.max_steering_rad))
    action = np.array([2.0 * (accel - lo) / (hi - lo) - 1.0, steer_he / vehicle.max_steering_rad], dtype=np.float32)
    return np.clip(action, -1.0, 1.0)
