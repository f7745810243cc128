"""Camera training labels without simulator ground truth: the lidar detector (the teacher) boxes the
vehicles in each unlabelled frame, and which of them the camera sees is worked out from those boxes
and the camera calibration alone (projection into the image, occlusion by nearer teacher boxes,
range), never from the simulator's visibility."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from perception.calibration import CameraCalibration
from perception.camera_data import CameraFrames
from perception.camera_targets import CameraInput, box_corners
from perception.dataset import load_sensor_data
from perception.detections import Detections
from perception.frames import BoxLabels


@dataclass(frozen=True)
class PseudoLabelConfig:
    teacher: str | Path
    """Lidar detector weights (``lidar.pt`` format)."""
    score_threshold: float = 0.3
    """Teacher boxes scoring below this are not labels."""
    max_range_m: float = 60.0
    """Teacher boxes farther than this [m] are not labels (the lidar grid covers +-51.2 m)."""
    raster_px: int = 4
    """Pixel size of the occlusion raster [px]."""
    student: str | Path | None = None
    """Self-training: camera detector weights (an earlier pseudo-label student) whose confident boxes
    are added where the teacher cannot label (beyond ``student_min_range_m``)."""
    student_threshold: float = 0.5
    """Student boxes scoring below this are not labels."""
    student_min_range_m: float = 45.0
    """Student boxes nearer than this [m] are not labels: there the lidar teacher is far more accurate
    (a vehicle it missed that the camera claims is more likely the camera's false positive)."""
    match_m: float = 2.0
    """A student box within this distance [m] of a teacher box is the same vehicle (the teacher's kept)."""


def box_visibility(center_m: np.ndarray, size_m: np.ndarray, yaw_rad: np.ndarray, cal: CameraCalibration,
                   raster_px: int = 4) -> np.ndarray:
    """Share (N,) of each box's projected rectangle that lies in the image and is not hidden behind a
    nearer box: boxes are painted far to near on a coarse raster (a z-buffer of rectangles)."""
    n = len(center_m)
    h, w = -(-cal.height_px // raster_px), -(-cal.width_px // raster_px)
    owner = np.full((h, w), -1)
    areas = np.zeros(n)
    for k in np.argsort(-np.hypot(center_m[:, 0], center_m[:, 1])) if n else []:
        uv, z = cal.project(box_corners(center_m[k], size_m[k], yaw_rad[k]))
        if (z <= 0.1).any():  # partly behind the camera: not a reliable label
            continue
        lo, hi = np.floor(uv.min(axis=0) / raster_px).astype(int), np.ceil(uv.max(axis=0) / raster_px).astype(int)
        areas[k] = max(1, (hi - lo).prod())
        c0, r0 = np.maximum(lo, 0)
        c1, r1 = min(hi[0], w), min(hi[1], h)
        if c1 > c0 and r1 > r0:
            owner[r0:r1, c0:c1] = k
    seen = np.bincount(owner[owner >= 0].ravel(), minlength=n)[:n] if n else np.zeros(0)
    return np.where(areas > 0, seen / np.maximum(areas, 1), 0.0)


def pseudo_labels(det: Detections, cal: CameraCalibration, cfg: PseudoLabelConfig,
                  student: Detections | None = None) -> BoxLabels:
    """The teacher's confident boxes as labels, plus (self-training) the student's confident far boxes
    that no teacher box explains, with camera visibility from ``box_visibility``; ``lidar_points`` is 1
    for a teacher box and 0 for a student box, velocities are unknown (0)."""
    keep = (det.score >= cfg.score_threshold) & (np.hypot(det.center_m[:, 0], det.center_m[:, 1]) <= cfg.max_range_m)
    center, size, yaw = det.center_m[keep], det.size_m[keep], det.yaw_rad[keep]
    points = np.ones(len(center), np.int64)
    if student is not None:
        extra = _student_boxes(student, center, cfg)
        center, size, yaw = (np.concatenate([a, b]) for a, b in
                             ((center, student.center_m[extra]), (size, student.size_m[extra]), (yaw, student.yaw_rad[extra])))
        points = np.concatenate([points, np.zeros(int(extra.sum()), np.int64)])
    n = len(center)
    visible = box_visibility(center, size, yaw, cal, cfg.raster_px)
    return BoxLabels(np.arange(n), center, size, yaw, np.zeros((n, 2)), points, visible[:, None])


def _student_boxes(student: Detections, teacher_center_m: np.ndarray, cfg: PseudoLabelConfig) -> np.ndarray:
    """Mask (M,) of the student's boxes that become labels: confident, far, and not a teacher box."""
    rng = np.hypot(student.center_m[:, 0], student.center_m[:, 1])
    keep = (student.score >= cfg.student_threshold) & (rng >= cfg.student_min_range_m) & (rng <= cfg.max_range_m)
    if len(teacher_center_m) and keep.any():
        gap = np.linalg.norm(student.center_m[:, None, :2] - teacher_center_m[None, :, :2], axis=2).min(axis=1)
        keep &= gap > cfg.match_m
    return keep


class PseudoCameraFrames(CameraFrames):
    """A split of an (unlabelled) datagen directory whose labels come from the lidar teacher: only
    the images, points and calibration of each file are read (``load_sensor_data``)."""

    def __init__(self, root: str | Path, split: str, geo: CameraInput, cfg: PseudoLabelConfig, augment_data: bool = False,
                 seed: int = 0, max_frames: int | None = None) -> None:
        from perception.lidar_detector import LidarNetDetector

        self.teacher = LidarNetDetector(cfg.teacher, device="cpu", threshold=min(cfg.score_threshold, 0.1))
        self.student = None
        if cfg.student is not None:
            from perception.camera_detector import CameraNetDetector
            self.student = CameraNetDetector(cfg.student, device="cpu", threshold=min(cfg.student_threshold, 0.1))
        self.cfg = cfg
        super().__init__(root, split, geo, augment_data, seed, max_frames)
        self.teacher = self.student = None  # not needed once the labels are made (and not picklable into workers)

    def _load(self, path: Path) -> tuple[np.ndarray, CameraCalibration, BoxLabels]:
        frame = load_sensor_data(path)
        if not frame.cameras or not frame.lidars:
            raise ValueError(f"{path} lacks a camera or a lidar: pseudo-labels need both")
        cam = frame.cameras[0]
        student = self.student.detect(frame) if self.student is not None else None
        return cam.rgb, cam.calibration, pseudo_labels(self.teacher.detect(frame), cam.calibration, self.cfg, student)

    def label_counts(self) -> tuple[int, int, int]:
        """(teacher boxes kept, student boxes added, boxes the camera sees at least 10 % of) over the split."""
        teacher = sum(int(s[2].lidar_points.sum()) for s in self.samples)
        student = sum(int((s[2].lidar_points == 0).sum()) for s in self.samples)
        visible = sum(int((s[2].visible_fraction[:, 0] >= 0.1).sum()) for s in self.samples)
        return teacher, student, visible
