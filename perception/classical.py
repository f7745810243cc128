"""Classical lidar baseline: RANSAC ground removal and DBSCAN clustering (open3d), one box per
cluster from its minimum-area rectangle. No learning: the reference that learned detectors must beat."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import open3d as o3d

from perception.detections import Detections
from perception.geometry import wrap_angle
from perception.frames import SensorFrame, lidar_points_ego


@dataclass(frozen=True)
class ClassicalLidarConfig:
    roi_m: float = 60.0
    ground_distance_m: float = 0.15
    ransac_iterations: int = 60
    min_height_m: float = 0.25
    cluster_eps_m: float = 0.9
    cluster_min_points: int = 4
    max_length_m: float = 9.0
    max_width_m: float = 4.0


class ClassicalLidarDetector:
    """``detect(frame) -> Detections`` from the lidar points of all lidars in the frame."""

    name = "classical"

    def __init__(self, config: ClassicalLidarConfig = ClassicalLidarConfig()) -> None:
        self.config = config

    def detect(self, frame: SensorFrame) -> Detections:
        pts = self._points(frame)
        if len(pts) < max(10, self.config.cluster_min_points):
            return Detections.empty(frame.stamp, self.name)
        objects = pts[self._above_ground(pts)]
        boxes = [self._box(objects[labels]) for labels in self._clusters(objects)]
        boxes = [b for b in boxes if b is not None]
        if not boxes:
            return Detections.empty(frame.stamp, self.name)
        center, size, yaw, score = (np.array(v) for v in zip(*boxes))
        sigma = 0.3 + 0.01 * np.hypot(center[:, 0], center[:, 1])
        cov = sigma[:, None, None] ** 2 * np.eye(2)[None]
        return Detections(frame.stamp, self.name, center, size, yaw, score, cov)

    def _points(self, frame: SensorFrame) -> np.ndarray:
        pts = lidar_points_ego(frame.lidars)[:, :3]
        pts = pts[np.isfinite(pts).all(axis=1)]
        return pts[(np.abs(pts[:, 0]) < self.config.roi_m) & (np.abs(pts[:, 1]) < self.config.roi_m)]

    def _above_ground(self, pts: np.ndarray) -> np.ndarray:
        cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts))
        (a, b, c, d), _ = cloud.segment_plane(self.config.ground_distance_m, 3, self.config.ransac_iterations)
        height = (pts @ np.array([a, b, c]) + d) * np.sign(c)
        return height > self.config.min_height_m

    def _clusters(self, pts: np.ndarray) -> list[np.ndarray]:
        if len(pts) < self.config.cluster_min_points:
            return []
        flat = pts.copy()
        flat[:, 2] *= 0.3  # cluster mostly in the ground plane
        cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(flat))
        labels = np.asarray(cloud.cluster_dbscan(self.config.cluster_eps_m, self.config.cluster_min_points))
        return [labels == k for k in range(labels.max() + 1)] if len(labels) else []

    def _box(self, pts: np.ndarray):
        (cx, cy), (w, h), angle = cv2.minAreaRect(pts[:, :2].astype(np.float32))
        length, width, yaw = (w, h, np.deg2rad(angle)) if w >= h else (h, w, np.deg2rad(angle + 90.0))
        if length > self.config.max_length_m or width > self.config.max_width_m:
            return None
        top = float(pts[:, 2].max())
        yaw = wrap_angle(yaw)
        return [cx, cy, top / 2.0], [max(length, 0.5), max(width, 0.5), top], yaw, min(1.0, len(pts) / 60.0)
