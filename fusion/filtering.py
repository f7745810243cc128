"""Kalman-filter pieces of the tracker: the constant-velocity model in the map frame, detections moved
into it, innovation statistics and the (Joseph-form) position update. Pure functions on arrays."""
from __future__ import annotations

import numpy as np

from fusion.types import EgoState
from perception.detections import Detections
from perception.geometry import wrap_angle

H = np.eye(2, 4)
"""Measurement matrix: detections observe the position only."""


def transition(dt_s: float) -> np.ndarray:
    """Constant-velocity transition (4, 4) of the state [x_m, y_m, vx_mps, vy_mps] over ``dt_s``."""
    F = np.eye(4)
    F[0, 2] = F[1, 3] = dt_s
    return F


def process_noise(dt_s: float, heading_rad: np.ndarray, along_std_mps2: float, across_std_mps2: float) -> np.ndarray:
    """White-acceleration process noise (T, 4, 4) over ``dt_s``, oriented along each heading (T,)."""
    c, s = np.cos(heading_rad), np.sin(heading_rad)
    rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
    accel = rot @ np.diag([along_std_mps2 ** 2, across_std_mps2 ** 2]) @ rot.transpose(0, 2, 1)
    G = np.vstack([0.5 * dt_s * dt_s * np.eye(2), dt_s * np.eye(2)])
    return G[None] @ accel @ G.T[None]


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


def innovation_stats(xs: np.ndarray, Ps: np.ndarray, z: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared Mahalanobis distances d^2 (T, D) and ln det S (T, D) of the innovations of detections
    z (D, 2), R (D, 2, 2) against track states xs (T, 4), Ps (T, 4, 4) (position-only measurement)."""
    v = z[None, :, :] - xs[:, None, :2]
    S = Ps[:, None, :2, :2] + R[None]
    a, b, c = S[..., 0, 0], S[..., 0, 1], S[..., 1, 1]
    det = a * c - b * b  # S is a symmetric positive definite 2x2: invert in closed form
    d2 = (c * v[..., 0] ** 2 - 2.0 * b * v[..., 0] * v[..., 1] + a * v[..., 1] ** 2) / det
    return d2, np.log(det)


def kalman_update(x: np.ndarray, P: np.ndarray, z: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position-only Kalman correction (Joseph form, keeps P symmetric positive definite), of one state
    x (4,), P (4, 4) with z (2,), R (2, 2) or of a batch x (M, 4), P (M, 4, 4), z (M, 2), R (M, 2, 2)."""
    if x.ndim == 1:
        x1, P1 = kalman_update(x[None], P[None], z[None], R[None])
        return x1[0], P1[0]
    S = P[:, :2, :2] + R
    K = np.linalg.solve(S, P[:, :2, :]).transpose(0, 2, 1)
    I_KH = np.eye(4)[None] - K @ H[None]
    P_new = I_KH @ P @ I_KH.transpose(0, 2, 1) + K @ R @ K.transpose(0, 2, 1)
    innovation = z - x[:, :2]
    return x + np.einsum("mij,mj->mi", K, innovation), 0.5 * (P_new + P_new.transpose(0, 2, 1))


def resolve_pi_ambiguity(yaw_rad, reference_rad):
    """``yaw_rad`` or ``yaw_rad + pi``, whichever is nearer ``reference_rad`` (wrapped to [-pi, pi));
    scalars or arrays."""
    yaw = wrap_angle(yaw_rad)
    flipped = wrap_angle(np.asarray(yaw) + np.pi)
    out = np.where(np.abs(wrap_angle(np.asarray(yaw) - reference_rad)) <= np.pi / 2, yaw, flipped)
    return float(out) if np.ndim(out) == 0 else out


def rotation(yaw_rad: float) -> np.ndarray:
    c, s = np.cos(yaw_rad), np.sin(yaw_rad)
    return np.array([[c, -s], [s, c]])


def ego_pose_at(ego: EgoState, t: float) -> tuple[float, float, float]:
    """Ego (x_m, y_m, yaw_rad) at time ``t``, extrapolated from ``ego`` with its speed and yaw rate."""
    dt = t - ego.stamp
    mid_yaw = ego.yaw_rad + 0.5 * ego.yaw_rate_radps * dt
    return (ego.x_m + ego.speed_mps * dt * np.cos(mid_yaw), ego.y_m + ego.speed_mps * dt * np.sin(mid_yaw),
            ego.yaw_rad + ego.yaw_rate_radps * dt)
