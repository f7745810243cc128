"""Oriented-box geometry for collision and time-to-collision checks (batched, numpy)."""
from __future__ import annotations

import numpy as np


def box_corners(x: np.ndarray, y: np.ndarray, yaw: np.ndarray, length: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Corners (..., 4, 2) [m] of boxes centred at (x, y) with heading ``yaw`` [rad]."""
    c, s = np.cos(yaw), np.sin(yaw)
    hl, hw = np.asarray(length) / 2.0, np.asarray(width) / 2.0
    signs = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]], dtype=float)
    lx = signs[:, 0] * hl[..., None]
    ly = signs[:, 1] * hw[..., None]
    cx = np.asarray(x)[..., None] + c[..., None] * lx - s[..., None] * ly
    cy = np.asarray(y)[..., None] + s[..., None] * lx + c[..., None] * ly
    return np.stack([cx, cy], axis=-1)


def boxes_overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Separating-axis test between corner sets a (..., 4, 2) and b (..., 4, 2), broadcast.

    Returns a boolean array of the broadcast batch shape: True where the boxes intersect.
    """
    a, b = np.broadcast_arrays(a, b)
    overlap = np.ones(a.shape[:-2], dtype=bool)
    for poly in (a, b):
        for i in (0, 1):
            edge = poly[..., i + 1, :] - poly[..., i, :]
            axis = np.stack([-edge[..., 1], edge[..., 0]], axis=-1)
            pa = np.einsum("...kj,...j->...k", a, axis)
            pb = np.einsum("...kj,...j->...k", b, axis)
            sep = (pa.max(-1) < pb.min(-1)) | (pb.max(-1) < pa.min(-1))
            overlap &= ~sep
    return overlap
