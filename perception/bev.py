"""Bird's-eye-view grid for the lidar detector: pillar indices of points, and the centre-heatmap
targets (CenterPoint style) that training regresses and inference decodes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perception.frames import BoxLabels

POINT_FEATURES = 7
"""Per-point input: x, y, z, intensity, offset to the pillar centre (dx, dy), range / 50."""


@dataclass(frozen=True)
class BevGrid:
    """Square ego-centred grid: ``half_extent_m`` each way, pillars of ``pillar_m``; the head works
    at ``stride`` x the pillar size."""

    half_extent_m: float = 51.2
    pillar_m: float = 0.4
    stride: int = 2

    @property
    def size(self) -> int:
        return int(round(2 * self.half_extent_m / self.pillar_m))

    @property
    def out_size(self) -> int:
        return self.size // self.stride

    @property
    def cell_m(self) -> float:
        return self.pillar_m * self.stride


def pillarize(points: np.ndarray, grid: BevGrid) -> tuple[np.ndarray, np.ndarray]:
    """Ego-frame points (N, 4: x, y, z, intensity) -> (flat pillar index (M,), features (M, 7)) for the
    M finite points inside the grid. Row = x (forward), column = y (left), both from the grid corner."""
    pts = points[np.isfinite(points).all(axis=1)]
    ix = np.floor((pts[:, 0] + grid.half_extent_m) / grid.pillar_m).astype(np.int64)
    iy = np.floor((pts[:, 1] + grid.half_extent_m) / grid.pillar_m).astype(np.int64)
    ok = (ix >= 0) & (ix < grid.size) & (iy >= 0) & (iy < grid.size)
    pts, ix, iy = pts[ok], ix[ok], iy[ok]
    cx = (ix + 0.5) * grid.pillar_m - grid.half_extent_m
    cy = (iy + 0.5) * grid.pillar_m - grid.half_extent_m
    feats = np.column_stack([pts[:, :4], pts[:, 0] - cx, pts[:, 1] - cy, np.hypot(pts[:, 0], pts[:, 1]) / 50.0])
    return ix * grid.size + iy, feats.astype(np.float32)


@dataclass(frozen=True)
class Targets:
    """Training targets on the output grid: ``heatmap`` (S, S) in [0, 1]; at each object's centre
    cell ``index`` (K,), ``regression`` (K, 8) = offset x, y [cells], log length, log width, z [m],
    sin yaw, cos yaw, log height."""

    heatmap: np.ndarray
    index: np.ndarray
    regression: np.ndarray


def encode(labels: BoxLabels, grid: BevGrid, keep: np.ndarray | None = None) -> Targets:
    """Gaussian centre heatmap and regression targets for the labelled boxes (optionally a subset)."""
    s = grid.out_size
    heat = np.zeros((s, s), np.float32)
    keep = np.ones(len(labels), bool) if keep is None else keep
    fx = (labels.center_m[:, 0] + grid.half_extent_m) / grid.cell_m
    fy = (labels.center_m[:, 1] + grid.half_extent_m) / grid.cell_m
    inside = keep & (fx >= 0) & (fx < s) & (fy >= 0) & (fy < s)
    idx, reg = [], []
    rows, cols = np.mgrid[0:s, 0:s]
    for k in np.flatnonzero(inside):
        ix, iy = int(fx[k]), int(fy[k])
        sigma = max(0.5, 0.25 * labels.size_m[k, 1] / grid.cell_m + 0.5)
        heat = np.maximum(heat, np.exp(-((rows - ix) ** 2 + (cols - iy) ** 2) / (2 * sigma ** 2)).astype(np.float32))
        heat[ix, iy] = 1.0
        idx.append(ix * s + iy)
        l, w, h = labels.size_m[k]
        reg.append([fx[k] - ix, fy[k] - iy, np.log(l), np.log(w), labels.center_m[k, 2],
                    np.sin(labels.yaw_rad[k]), np.cos(labels.yaw_rad[k]), np.log(h)])
    return Targets(heat, np.array(idx, np.int64), np.array(reg, np.float32).reshape(-1, 8))


def local_peaks(heatmap: np.ndarray, threshold: float, max_objects: int) -> np.ndarray:
    """Flat indices of the cells of a 2-D score map that are not lower than any of their 8
    neighbours and reach ``threshold``, highest first, at most ``max_objects``."""
    padded = np.pad(heatmap, 1, constant_values=-np.inf)
    neigh = np.max([padded[1 + dr: 1 + dr + heatmap.shape[0], 1 + dc: 1 + dc + heatmap.shape[1]]
                    for dr in (-1, 0, 1) for dc in (-1, 0, 1)], axis=0)
    peaks = np.flatnonzero((heatmap >= neigh).ravel() & (heatmap.ravel() >= threshold))
    return peaks[np.argsort(-heatmap.ravel()[peaks])][:max_objects]


def decode(heatmap: np.ndarray, regression: np.ndarray, grid: BevGrid, threshold: float = 0.3, max_objects: int = 100
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Peaks of a (S, S) score map with their (8, S, S) regression -> centres (N, 3), sizes (N, 3),
    yaws (N,), scores (N,). A peak is a cell not lower than its 8 neighbours."""
    peaks = local_peaks(heatmap, threshold, max_objects)
    ix, iy = np.divmod(peaks, heatmap.shape[1])
    r = regression.reshape(8, -1)[:, peaks]
    x = (ix + r[0]) * grid.cell_m - grid.half_extent_m
    y = (iy + r[1]) * grid.cell_m - grid.half_extent_m
    center = np.column_stack([x, y, r[4]])
    size = np.column_stack([np.exp(r[2]), np.exp(r[3]), np.exp(r[7])])
    return center, size, np.arctan2(r[5], r[6]), heatmap.ravel()[peaks]
