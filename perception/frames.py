"""Sensor data of one tick and its ground-truth labels (the training and evaluation targets)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perception.calibration import CameraCalibration, LidarCalibration, transform_points


@dataclass(frozen=True)
class CameraFrame:
    """One camera image. ``rgb`` (H, W, 3) uint8; ``depth_m`` (H, W) float32 distance along the
    optical axis (inf where nothing was hit); ``instance_id`` (H, W) int32: the vehicle's track id,
    0 for road/background."""

    stamp: float
    calibration: CameraCalibration
    rgb: np.ndarray
    depth_m: np.ndarray
    instance_id: np.ndarray


@dataclass(frozen=True)
class LidarFrame:
    """One lidar sweep: ``points`` (N, 5) float32 = x, y, z [m] in the sensor frame, intensity in
    [0, 1], ring (beam index)."""

    stamp: float
    calibration: LidarCalibration
    points: np.ndarray


@dataclass(frozen=True)
class BoxLabels:
    """Ground-truth vehicles of one tick in the ego frame, (N,) or (N, k) arrays.

    ``center_m`` (N, 3) box centres; ``size_m`` (N, 3) length, width, height; ``yaw_rad`` (N,);
    ``velocity_mps`` (N, 2) velocity over ground expressed in the ego frame; ``lidar_points`` (N,) returns inside each box summed over
    lidars; ``visible_fraction`` (N, n_cameras) share of the box's projected silhouette that the camera
    actually sees (0: outside the image or fully occluded).
    """

    track_id: np.ndarray
    center_m: np.ndarray
    size_m: np.ndarray
    yaw_rad: np.ndarray
    velocity_mps: np.ndarray
    lidar_points: np.ndarray
    visible_fraction: np.ndarray

    def __len__(self) -> int:
        return len(self.track_id)


@dataclass(frozen=True)
class SensorFrame:
    """Everything the rig produced at one tick. A sensor that dropped its frame is absent."""

    stamp: float
    cameras: tuple[CameraFrame, ...]
    lidars: tuple[LidarFrame, ...]
    labels: BoxLabels | None = None

    def delivered(self, kind: str) -> bool:
        """Whether a sensor of this kind ("camera", "lidar") delivered usable data: a blank camera image
        (failed or covered camera) does not count."""
        if kind == "camera":
            return any(has_signal(c.rgb) for c in self.cameras)
        return len(self.lidars) > 0


def has_signal(rgb: np.ndarray, min_std: float = 2.0) -> bool:
    """False for a blank frame (black, white or any single colour: a failed or covered camera),
    which a network must not be asked about: it has never seen one and finds dark cars in it."""
    return float(rgb[::4, ::4].std()) >= min_std


def lidar_points_ego(lidars: tuple[LidarFrame, ...]) -> np.ndarray:
    """All returns of the given sweeps in the ego frame, (N, 4): x, y, z [m], intensity."""
    clouds = [np.column_stack([transform_points(l.calibration.T_ego_from_sensor, l.points[:, :3].astype(float)),
                               l.points[:, 3]]) for l in lidars]
    return np.concatenate(clouds) if clouds else np.zeros((0, 4))
