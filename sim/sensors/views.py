"""Pictures of sensor frames: camera image with projected ground-truth boxes, lidar bird's-eye
view, and point-cloud files (.pcd / .ply) that open3d and other viewers open."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import open3d as o3d

from perception.frames import BoxLabels, CameraFrame, LidarFrame, lidar_points_ego
from sim.sensors.scene import SceneVehicles

_EDGES = [(0, 1), (2, 3), (4, 5), (6, 7), (0, 2), (1, 3), (4, 6), (5, 7), (0, 4), (1, 5), (2, 6), (3, 7)]


def label_corners(labels: BoxLabels) -> np.ndarray:
    return SceneVehicles(labels.track_id, labels.center_m, labels.size_m, labels.yaw_rad, labels.velocity_mps,
                         np.zeros((len(labels), 3))).corners()


def camera_with_boxes(cam: CameraFrame, labels: BoxLabels, cam_index: int = 0) -> np.ndarray:
    """BGR image with each visible vehicle's 3-D box drawn and labelled with id and visibility."""
    img = np.ascontiguousarray(cam.rgb[..., ::-1])
    vis = labels.visible_fraction[:, cam_index] if labels.visible_fraction.shape[1] > cam_index else np.zeros(len(labels))
    texts = [f"{i} {v:.0%}" for i, v in zip(labels.track_id, vis)]
    draw_boxes(img, cam, label_corners(labels), vis > 0.0, texts, (0, 255, 255))
    return img


def draw_boxes(img: np.ndarray, cam: CameraFrame, corners: list[np.ndarray], show: np.ndarray, texts: list[str],
               color: tuple[int, int, int]) -> None:
    """Draw ego-frame boxes (8 corners each) that are wholly in front of the camera onto a BGR image."""
    for i, box in enumerate(corners):
        if not show[i]:
            continue
        uv, z = cam.calibration.project(box)
        if (z <= 0.1).any():
            continue
        pts = np.round(uv).astype(np.int32)
        for a, b in _EDGES:
            cv2.line(img, tuple(pts[a]), tuple(pts[b]), color, 1, cv2.LINE_AA)
        top = tuple(pts.min(axis=0))
        if np.ptp(pts[:, 0]) < 25:  # too small to label legibly
            continue
        cv2.putText(img, texts[i], (top[0], max(top[1] - 2, 8)), cv2.FONT_HERSHEY_SIMPLEX, 0.3, (255, 255, 255), 1,
                    cv2.LINE_AA)


def lidar_bev(lidars: tuple[LidarFrame, ...], labels: BoxLabels, range_m: float = 60.0, px_per_m: float = 6.0
              ) -> np.ndarray:
    """Bird's-eye view (x up, y left) of all lidar points in the ego frame, boxes in green."""
    n = int(2 * range_m * px_per_m)
    img = np.zeros((n, n, 3), np.uint8)
    to_px = lambda xy: np.stack([n / 2 - xy[:, 1] * px_per_m, n / 2 - xy[:, 0] * px_per_m], 1)  # noqa: E731
    pts = lidar_points_ego(lidars)
    if len(pts):
        px = np.round(to_px(pts)).astype(int)
        ok = (px[:, 0] >= 0) & (px[:, 0] < n) & (px[:, 1] >= 0) & (px[:, 1] < n)
        shade = (80 + 175 * np.clip(pts[ok, 3], 0, 1)).astype(np.uint8)
        color = np.stack([shade, shade, shade], 1)
        above = pts[ok, 2] > 0.2  # returns off the ground (vehicles) in orange
        color[above] = (0, 160, 255)
        img[px[ok, 1], px[ok, 0]] = color
    for i, corners in enumerate(label_corners(labels)):
        box = np.round(to_px(corners[[0, 1, 3, 2], :2])).astype(np.int32)
        cv2.polylines(img, [box], True, (0, 220, 0), 1, cv2.LINE_AA)
        cv2.putText(img, f"{labels.track_id[i]}:{labels.lidar_points[i]}", tuple(box[0]), cv2.FONT_HERSHEY_SIMPLEX,
                    0.35, (0, 220, 0), 1, cv2.LINE_AA)
    cv2.rectangle(img, (n // 2 - 6, n // 2 - 15), (n // 2 + 6, n // 2 + 15), (0, 0, 255), 1)  # the ego
    return img


def write_point_cloud(lid: LidarFrame, path: Path) -> None:
    """Points in the sensor frame with intensity and ring attributes (.pcd or .ply)."""
    pcd = o3d.t.geometry.PointCloud()
    pcd.point.positions = o3d.core.Tensor(lid.points[:, :3].astype(np.float32))
    pcd.point.intensity = o3d.core.Tensor(lid.points[:, 3:4].astype(np.float32))
    pcd.point.ring = o3d.core.Tensor(lid.points[:, 4:5].astype(np.float32))
    if not o3d.t.io.write_point_cloud(str(path), pcd):
        raise ValueError(f"cannot write point cloud to {path}")
