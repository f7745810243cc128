"""Sensor calibration and the projections between the ego frame and a camera image.

Frames: ego (x forward, y left, z up, origin at the vehicle centre on the ground); a camera's
optical frame (x right, y down, z forward, the usual pinhole convention); a lidar's frame
(x forward, y left, z up). ``T_ego_from_sensor`` maps sensor coordinates into the ego frame.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

R_BODY_FROM_OPTICAL = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
"""Rotation from a camera optical frame (x right, y down, z forward) to a body frame (x fwd, y left, z up)."""


def rot_z(yaw_rad: float) -> np.ndarray:
    c, s = np.cos(yaw_rad), np.sin(yaw_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rot_y(pitch_rad: float) -> np.ndarray:
    c, s = np.cos(pitch_rad), np.sin(pitch_rad)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def make_transform(rotation: np.ndarray, translation_m: np.ndarray) -> np.ndarray:
    """4x4 homogeneous transform from a 3x3 rotation and a translation [m]."""
    T = np.eye(4)
    T[:3, :3] = rotation
    T[:3, 3] = translation_m
    return T


def mount_transform(xyz_m: tuple[float, float, float], yaw_rad: float = 0.0, pitch_rad: float = 0.0,
                    optical: bool = False) -> np.ndarray:
    """T_ego_from_sensor for a sensor at ``xyz_m`` on the ego, turned by yaw (left +) and pitch (down +).

    ``optical`` appends the body-to-optical axis swap used by cameras.
    """
    R = rot_z(yaw_rad) @ rot_y(pitch_rad)
    if optical:
        R = R @ R_BODY_FROM_OPTICAL
    return make_transform(R, np.asarray(xyz_m, dtype=float))


def intrinsics(width_px: int, height_px: int, hfov_rad: float) -> np.ndarray:
    """Pinhole K (3x3) with square pixels and the principal point at the image centre."""
    f = (width_px / 2.0) / np.tan(hfov_rad / 2.0)
    return np.array([[f, 0.0, width_px / 2.0], [0.0, f, height_px / 2.0], [0.0, 0.0, 1.0]])


def transform_points(T: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 4x4 transform to points (N, 3)."""
    return points @ T[:3, :3].T + T[:3, 3]


@dataclass(frozen=True)
class CameraCalibration:
    """Pinhole camera: intrinsics ``K`` (3x3, pixels), image size, and ``T_ego_from_sensor`` (4x4,
    the sensor being the optical frame)."""

    name: str
    K: np.ndarray
    width_px: int
    height_px: int
    T_ego_from_sensor: np.ndarray

    def project(self, points_ego: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixels (N, 2) [u right, v down] and depths (N,) [m] along the optical axis of ego-frame
        points (N, 3). Points behind the camera get depth <= 0 (their pixels are meaningless)."""
        p = transform_points(np.linalg.inv(self.T_ego_from_sensor), np.atleast_2d(points_ego))
        z = p[:, 2]
        uv = (p[:, :2] / np.where(np.abs(z) < 1e-9, 1e-9, z)[:, None]) @ self.K[:2, :2].T + self.K[:2, 2]
        return uv, z

    def unproject(self, uv_px: np.ndarray, depth_m: np.ndarray) -> np.ndarray:
        """Ego-frame points (N, 3) of pixels (N, 2) at depths (N,) along the optical axis."""
        uv1 = np.column_stack([np.atleast_2d(uv_px), np.ones(len(np.atleast_2d(uv_px)))])
        rays = uv1 @ np.linalg.inv(self.K).T
        return transform_points(self.T_ego_from_sensor, rays * np.asarray(depth_m)[:, None])

    def in_image(self, uv_px: np.ndarray, depth_m: np.ndarray) -> np.ndarray:
        return (depth_m > 0) & (uv_px[:, 0] >= 0) & (uv_px[:, 0] < self.width_px) & \
               (uv_px[:, 1] >= 0) & (uv_px[:, 1] < self.height_px)


@dataclass(frozen=True)
class LidarCalibration:
    """Spinning lidar: ``n_beams`` rows spread over the vertical field of view, one column per
    azimuth step over 360 degrees, returns up to ``max_range_m``."""

    name: str
    n_beams: int
    vfov_deg: tuple[float, float]
    azimuth_resolution_deg: float
    max_range_m: float
    T_ego_from_sensor: np.ndarray

    def beam_elevations_rad(self) -> np.ndarray:
        return np.deg2rad(np.linspace(self.vfov_deg[0], self.vfov_deg[1], self.n_beams))

    def azimuths_rad(self) -> np.ndarray:
        n = int(round(360.0 / self.azimuth_resolution_deg))
        return np.deg2rad(np.arange(n) * self.azimuth_resolution_deg) - np.pi
