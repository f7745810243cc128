"""Kalman-filter pieces of the tracker: detections moved into the map frame and the ego pose (the
prediction, innovations and update are compiled: ``fusion.kernels``). Pure functions on arrays."""
from __future__ import annotations

import numpy as np

from fusion.types import EgoState
from perception.detections import Detections
from perception.geometry import wrap_angle

def detections_to_map(batch: Detections, pose: tuple[float, float, float], floor_m2: float, scale: float = 1.0
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres (N, 2) [m], noise covariances R (N, 2, 2) [m^2] and yaws (N,) [rad] in the map frame.

    ``pose`` is the ego's (x_m, y_m, yaw_rad) in the map frame; R is the detection covariance times
    ``scale``, rotated into the map frame, plus ``floor_m2`` on each axis.
    """
    x_m, y_m, yaw_rad = pose
    rot = rotation(yaw_rad)
    z = batch.center_m[:, :2] @ rot.T + np.array([x_m, y_m])
    R = scale * (rot[None] @ batch.covariance_m2 @ rot.T[None]) + floor_m2 * np.eye(2)[None]
    return z, R, wrap_angle(batch.yaw_rad + yaw_rad)


def inflate_along_ray(R: np.ndarray, z: np.ndarray, sensor_xy: np.ndarray, along: float, across: float
                      ) -> np.ndarray:
    """Covariances R (N, 2, 2) [m^2] of detections at z (N, 2) [m] with their variance along the ray from
    ``sensor_xy`` (2,) multiplied by ``along`` and across it by ``across`` (map frame throughout)."""
    u = z - sensor_xy
    u = u / np.maximum(np.hypot(u[:, 0], u[:, 1]), 1e-6)[:, None]
    basis = np.stack([u, np.column_stack([-u[:, 1], u[:, 0]])], 1)  # rows: along, across
    ray = basis @ R @ basis.transpose(0, 2, 1)
    return basis.transpose(0, 2, 1) @ (ray * np.sqrt(np.outer([along, across], [along, across]))[None]) @ basis


def rotation(yaw_rad: float) -> np.ndarray:
    c, s = np.cos(yaw_rad), np.sin(yaw_rad)
    return np.array([[c, -s], [s, c]])


def ego_pose_at(ego: EgoState, t: float) -> tuple[float, float, float]:
    """Ego (x_m, y_m, yaw_rad) at time ``t``, extrapolated from ``ego`` with its speed and yaw rate."""
    dt = t - ego.stamp
    mid_yaw = ego.yaw_rad + 0.5 * ego.yaw_rate_radps * dt
    return (ego.x_m + ego.speed_mps * dt * np.cos(mid_yaw), ego.y_m + ego.speed_mps * dt * np.sin(mid_yaw),
            ego.yaw_rad + ego.yaw_rate_radps * dt)
