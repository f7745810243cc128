"""Kinematic bicycle model referenced at the centre of gravity (batched, numpy).

Same equations as highway-env's ``Vehicle.step``: slip angle beta = atan(lr / L * tan(delta)),
position moves along heading + beta at the current speed, yaw rate = v * sin(beta) / lr, and the
speed integrates the acceleration. With lr = L / 2 this is highway-env's car exactly, which is what
lets the planner's forward simulation predict the real closed loop.
"""
from __future__ import annotations

import numpy as np

from control.types import VehicleParams

STATE_DIM = 4
"""State layout: [x_m, y_m, yaw_rad, speed_mps]."""


def slip_angle(steering_rad: np.ndarray, params: VehicleParams) -> np.ndarray:
    """Slip angle beta [rad] at the centre of gravity for a front steering angle."""
    return np.arctan(params.rear_to_cg_m / params.length_m * np.tan(steering_rad))


def bicycle_step(state: np.ndarray, accel_mps2: np.ndarray, steering_rad: np.ndarray, dt_s: float,
                 params: VehicleParams) -> np.ndarray:
    """Advance states (..., 4) by ``dt_s`` [s] under accelerations and steering angles (...)."""
    x, y, yaw, v = np.moveaxis(state, -1, 0)
    beta = slip_angle(steering_rad, params)
    x = x + v * np.cos(yaw + beta) * dt_s
    y = y + v * np.sin(yaw + beta) * dt_s
    yaw = yaw + v * np.sin(beta) / params.rear_to_cg_m * dt_s
    v = v + accel_mps2 * dt_s
    return np.stack([x, y, yaw, v], axis=-1)


def steering_for_curvature(curvature_1pm: np.ndarray, params: VehicleParams) -> np.ndarray:
    """Steering angle [rad] that makes the centre of gravity follow a circle of the given curvature."""
    sin_beta = np.clip(curvature_1pm * params.rear_to_cg_m, -0.99, 0.99)
    beta = np.arcsin(sin_beta)
    return np.arctan(params.length_m / params.rear_to_cg_m * np.tan(beta))
