"""Image-plane targets of the camera detector (CenterNet style, monocular 3-D): a heatmap of the
projected box centres plus, at each centre cell, sub-cell offset, log depth, log size and the
doubled observation angle; and the inverse, peaks back to 3-D boxes in the ego frame.

The observation angle is alpha = yaw - azimuth of the viewing ray (what the image shows of a car's
heading). Rendered cars look the same from the front and the back, so alpha is learned modulo pi
(as sin/cos of 2 alpha) and decoding picks the heading nearer the ego's direction of travel.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perception.bev import local_peaks
from perception.calibration import CameraCalibration
from perception.frames import BoxLabels

REG_CHANNELS = 8
"""Regression targets: offset u, v [cells], log depth [log m], log length, width, height, sin 2a, cos 2a."""


@dataclass(frozen=True)
class CameraInput:
    """What the network sees of a ``width_px`` x ``height_px`` image: rows ``crop_top_px`` to
    ``crop_bottom_px``, with outputs every ``stride`` pixels. On the default rig the sky above row 48
    holds no vehicle, and below row 128 lies only road just ahead of the bumper: a vehicle centre
    projecting there would overlap the ego."""

    width_px: int = 320
    height_px: int = 160
    crop_top_px: int = 48
    crop_bottom_px: int = 128
    stride: int = 4

    @property
    def out_shape(self) -> tuple[int, int]:
        return (self.crop_bottom_px - self.crop_top_px) // self.stride, self.width_px // self.stride

    def crop(self, image: np.ndarray) -> np.ndarray:
        return image[self.crop_top_px:self.crop_bottom_px]


@dataclass(frozen=True)
class ImageTargets:
    heatmap: np.ndarray
    """(H_out, W_out) in [0, 1]."""
    index: np.ndarray
    """(K,) flat cell index of each object's centre."""
    regression: np.ndarray
    """(K, REG_CHANNELS)."""


def box_corners(center: np.ndarray, size: np.ndarray, yaw: float) -> np.ndarray:
    """The 8 corners (8, 3) of a box in the ego frame."""
    l, w, h = size
    dx, dy, dz = np.meshgrid([-l / 2, l / 2], [-w / 2, w / 2], [-h / 2, h / 2], indexing="ij")
    c, s = np.cos(yaw), np.sin(yaw)
    x, y = dx.ravel() * c - dy.ravel() * s, dx.ravel() * s + dy.ravel() * c
    return np.column_stack([x, y, dz.ravel()]) + center


def encode_image(labels: BoxLabels, cal: CameraCalibration, cam: int, geo: CameraInput,
                 min_visible: float = 0.1) -> ImageTargets:
    """Targets for the boxes that camera ``cam`` sees at least ``min_visible`` of."""
    h_out, w_out = geo.out_shape
    heat = np.zeros((h_out, w_out), np.float32)
    rows, cols = np.mgrid[0:h_out, 0:w_out]
    idx, reg = [], []
    for k in np.flatnonzero(labels.visible_fraction[:, cam] >= min_visible) if len(labels) else []:
        uv, z = cal.project(labels.center_m[k][None])
        if z[0] < 0.5:
            continue
        fu, fv = uv[0, 0] / geo.stride, (uv[0, 1] - geo.crop_top_px) / geo.stride
        cu, cv = int(np.clip(np.floor(fu), 0, w_out - 1)), int(np.clip(np.floor(fv), 0, h_out - 1))
        sigma = _sigma_cells(labels, k, cal, geo)
        heat = np.maximum(heat, np.exp(-((rows - cv) ** 2 + (cols - cu) ** 2) / (2 * sigma ** 2)).astype(np.float32))
        heat[cv, cu] = 1.0
        idx.append(cv * w_out + cu)
        alpha = labels.yaw_rad[k] - np.arctan2(labels.center_m[k, 1], labels.center_m[k, 0])
        reg.append([fu - cu, fv - cv, np.log(z[0]), *np.log(labels.size_m[k]), np.sin(2 * alpha), np.cos(2 * alpha)])
    return ImageTargets(heat, np.array(idx, np.int64), np.array(reg, np.float32).reshape(-1, REG_CHANNELS))


def _sigma_cells(labels: BoxLabels, k: int, cal: CameraCalibration, geo: CameraInput) -> float:
    """Heatmap spread from the box's projected extent (a third of its smaller side)."""
    uv, z = cal.project(box_corners(labels.center_m[k], labels.size_m[k], labels.yaw_rad[k]))
    uv = uv[z > 0.1]
    if len(uv) < 2:
        return 0.5
    lo = np.clip(uv.min(axis=0), 0, [geo.width_px, geo.height_px])
    hi = np.clip(uv.max(axis=0), 0, [geo.width_px, geo.height_px])
    return float(max(0.5, (hi - lo).min() / geo.stride / 3.0))


def decode_image(heatmap: np.ndarray, regression: np.ndarray, cal: CameraCalibration, geo: CameraInput,
                 threshold: float, max_objects: int = 50, depth_gain: float = 1.0) -> dict[str, np.ndarray]:
    """Peaks of a (H_out, W_out) score map with their (C, H_out, W_out) regression -> boxes in the ego
    frame: ``center_m``, ``size_m``, ``yaw_rad``, ``score``, ``depth_m`` and the peak cells ``cell``.
    ``depth_gain`` multiplies the regressed depths (a correction fitted on validation data)."""
    peaks = local_peaks(heatmap, threshold, max_objects)
    cv, cu = np.divmod(peaks, heatmap.shape[1])
    r = regression.reshape(regression.shape[0], -1)[:, peaks]
    uv = np.column_stack([(cu + r[0]) * geo.stride, (cv + r[1]) * geo.stride + geo.crop_top_px])
    depth = np.exp(r[2]) * depth_gain
    center = cal.unproject(uv, depth) if len(peaks) else np.zeros((0, 3))
    azimuth = np.arctan2(center[:, 1], center[:, 0])
    yaw = np.arctan2(r[6], r[7]) / 2.0 + azimuth
    yaw = np.where(np.cos(yaw) < 0, yaw + np.pi, yaw)  # heading nearer the ego's
    yaw = np.angle(np.exp(1j * yaw))
    return {"center_m": center, "size_m": np.exp(r[3:6]).T.reshape(-1, 3), "yaw_rad": yaw,
            "score": heatmap.ravel()[peaks], "depth_m": depth, "cell": peaks}


def mirror_symmetric(cal: CameraCalibration) -> bool:
    """Whether mirroring the image left-right equals mirroring the world across the ego's x axis
    (a camera on the centre line looking straight ahead): the flip augmentation is exact then."""
    flip_ego, flip_opt = np.diag([1.0, -1.0, 1.0, 1.0]), np.diag([-1.0, 1.0, 1.0, 1.0])
    return bool(np.allclose(flip_ego @ cal.T_ego_from_sensor @ flip_opt, cal.T_ego_from_sensor, atol=1e-6)
                and abs(cal.K[0, 2] - cal.width_px / 2.0) < 1e-6)
