"""Box geometry in KITTI camera coordinates: corners, image projection, observation angle, the
conversions to and from the project's ego frame, and 3-D IoU.

KITTI camera frame: x right, y down, z forward; a box's ``(x, y, z)`` is the centre of its bottom face and
it spans ``y - h .. y``; ``rot_y`` is the yaw about camera y, 0 when the box's length axis points along
camera +x. Ego frame (project convention): x forward, y left, z up, box centres at mid-height. Camera
boxes are (N, 7) arrays ``x, y, z, h, w, l, rot_y`` (SI units), the layout of ``KittiBoxes.boxes7()``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perception.geometry import convex_quad_intersection

from perception.geometry import wrap_angle as wrap

IMAGE_SIZE_PX = (1242, 375)
"""KITTI colour image (width, height) [px]; projected boxes are clipped to it."""


# ------------------------------------------------------------------------------------- camera boxes

def box_corners(boxes7: np.ndarray) -> np.ndarray:
    """(N, 8, 3) corners of camera boxes ``x, y, z, h, w, l, rot_y``: bottom face first (y = bottom),
    then the top face, each counter-clockwise seen from above."""
    b = np.asarray(boxes7, float).reshape(-1, 7)
    x, y, z, h, w, l, ry = b.T
    cx = np.array([0.5, 0.5, -0.5, -0.5])[None] * l[:, None]
    cz = np.array([0.5, -0.5, -0.5, 0.5])[None] * w[:, None]
    c, s = np.cos(ry)[:, None], np.sin(ry)[:, None]
    # Rotation about camera y: a point along the length axis (1, 0, 0) goes to (cos ry, 0, -sin ry).
    px = x[:, None] + c * cx + s * cz
    pz = z[:, None] - s * cx + c * cz
    bottom = np.stack([px, np.repeat(y[:, None], 4, 1), pz], -1)
    top = bottom - np.stack([np.zeros_like(px), np.repeat(h[:, None], 4, 1), np.zeros_like(px)], -1)
    return np.concatenate([bottom, top], axis=1)


def project_to_image(boxes7: np.ndarray, P2: np.ndarray,
                     image_size_px: tuple[int, int] = IMAGE_SIZE_PX) -> np.ndarray:
    """(N, 4) image boxes x1, y1, x2, y2 [px] enclosing the projected corners of camera boxes (N, 7),
    clipped to the image (corners behind the camera are pushed to 0.1 m depth)."""
    corners = box_corners(boxes7)
    if len(corners) == 0:
        return np.zeros((0, 4))
    homo = np.concatenate([corners, np.ones(corners.shape[:2] + (1,))], -1) @ np.asarray(P2, float).T
    depth = np.maximum(homo[..., 2], 0.1)
    u, v = homo[..., 0] / depth, homo[..., 1] / depth
    w, h = image_size_px
    box = np.stack([u.min(1), v.min(1), u.max(1), v.max(1)], 1)
    return np.clip(box, 0.0, [w - 1, h - 1, w - 1, h - 1])


def observation_angle(boxes7: np.ndarray) -> np.ndarray:
    """KITTI ``alpha`` (N,) [rad]: ``rot_y`` minus the azimuth of the box seen from the camera."""
    b = np.asarray(boxes7, float).reshape(-1, 7)
    return wrap(b[:, 6] - np.arctan2(b[:, 0], b[:, 2]))


# ------------------------------------------------------------------------------------ camera <-> ego

def cam_yaw_to_ego(rot_y_rad):
    """Ego yaw (about z up, 0 along ego x) [rad] of a KITTI ``rot_y``.

    The length axis of a box with ``rot_y`` points along camera ``(cos ry, 0, -sin ry)``, i.e. ego
    ``(x, y) = (cam z, -cam x) = (-sin ry, -cos ry)``, whose angle is ``-ry - pi/2``.
    """
    return wrap(-np.asarray(rot_y_rad, float) - 0.5 * np.pi)


def ego_yaw_to_cam(yaw_rad):
    """Inverse of :func:`cam_yaw_to_ego` [rad]."""
    return wrap(-np.asarray(yaw_rad, float) - 0.5 * np.pi)


@dataclass(frozen=True)
class EgoBoxes:
    """Boxes in the ego frame (x forward, y left, z up): ``center_m`` (N, 3) box centres (mid-height),
    ``size_m`` (N, 3) length, width, height [m], ``yaw_rad`` (N,)."""

    center_m: np.ndarray
    size_m: np.ndarray
    yaw_rad: np.ndarray


def camera_to_ego(boxes7: np.ndarray) -> EgoBoxes:
    """Camera boxes (N, 7) ``x, y, z, h, w, l, rot_y`` -> ego boxes (the camera is the ego origin)."""
    b = np.asarray(boxes7, float).reshape(-1, 7)
    x, y, z, h, w, l, ry = b.T
    center = np.stack([z, -x, -y + 0.5 * h], 1)
    return EgoBoxes(center, np.stack([l, w, h], 1), cam_yaw_to_ego(ry))


def ego_to_camera(boxes: EgoBoxes) -> np.ndarray:
    """Inverse of :func:`camera_to_ego`: (N, 7) camera boxes ``x, y, z, h, w, l, rot_y``."""
    c = np.asarray(boxes.center_m, float).reshape(-1, 3)
    l, w, h = np.asarray(boxes.size_m, float).reshape(-1, 3).T
    bottom_y = -(c[:, 2] - 0.5 * h)
    return np.stack([-c[:, 1], bottom_y, c[:, 0], h, w, l, ego_yaw_to_cam(boxes.yaw_rad)], 1)


# ------------------------------------------------------------------------------------------------ IoU

def iou3d_pairs(a7: np.ndarray, b7: np.ndarray) -> np.ndarray:
    """3-D IoU (P,) of paired camera boxes ``a7[i]``, ``b7[i]`` (P, 7) ``x, y, z, h, w, l, rot_y``."""
    a7, b7 = np.asarray(a7, float).reshape(-1, 7), np.asarray(b7, float).reshape(-1, 7)
    vol_a, vol_b = np.prod(a7[:, 3:6], 1), np.prod(b7[:, 3:6], 1)
    # Boxes span y - h .. y (y down): the overlap of the two height intervals.
    height = np.clip(np.minimum(a7[:, 1], b7[:, 1]) - np.maximum(a7[:, 1] - a7[:, 3], b7[:, 1] - b7[:, 3]), 0, None)
    reach = 0.5 * (np.hypot(a7[:, 4], a7[:, 5]) + np.hypot(b7[:, 4], b7[:, 5]))
    near = (height > 0) & (np.hypot(a7[:, 0] - b7[:, 0], a7[:, 2] - b7[:, 2]) < reach)
    inter = np.zeros(len(a7))
    if near.any():
        bev_a = box_corners(a7[near])[:, :4][..., [0, 2]]
        bev_b = box_corners(b7[near])[:, :4][..., [0, 2]]
        inter[near] = convex_quad_intersection(bev_a, bev_b) * height[near]
    union = vol_a + vol_b - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def iou3d_matrix(a7: np.ndarray, b7: np.ndarray) -> np.ndarray:
    """3-D IoU (N, M) of every camera box of ``a7`` (N, 7) with every one of ``b7`` (M, 7)."""
    a7, b7 = np.asarray(a7, float).reshape(-1, 7), np.asarray(b7, float).reshape(-1, 7)
    ia, ib = np.meshgrid(np.arange(len(a7)), np.arange(len(b7)), indexing="ij")
    return iou3d_pairs(a7[ia.ravel()], b7[ib.ravel()]).reshape(len(a7), len(b7))
