"""Association of detections with tracks: box overlap in the bird's-eye view and the gated global
(Hungarian) assignment, in two passes by detection score."""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from perception.geometry import bev_corners, bev_giou


def box_overlap(track_xy: np.ndarray, track_lw: np.ndarray, track_yaw: np.ndarray, det_xy: np.ndarray,
                det_lw: np.ndarray, det_yaw: np.ndarray) -> np.ndarray:
    """BEV generalised IoU (T, D) of track boxes (centres (T, 2) [m], length/width (T, 2) [m], yaw (T,)
    [rad]) with detection boxes (same for D); -1 for pairs too far apart to touch (centres farther than
    the sum of the half diagonals), which skips the polygon clipping for them."""
    reach = 0.5 * (np.hypot(*track_lw.T)[:, None] + np.hypot(*det_lw.T)[None])
    touch = np.hypot(track_xy[:, None, 0] - det_xy[None, :, 0], track_xy[:, None, 1] - det_xy[None, :, 1]) < reach
    out = np.full(touch.shape, -1.0)
    if touch.any():
        ti, di = np.nonzero(touch)
        a = bev_corners(track_xy[ti], track_lw[ti, 0], track_lw[ti, 1], track_yaw[ti])
        out[ti, di] = bev_giou(a, bev_corners(det_xy[di], det_lw[di, 0], det_lw[di, 1], det_yaw[di]))
    return out


def two_pass_assignment(cost: np.ndarray, feasible: np.ndarray, high: np.ndarray) -> list[tuple[int, int]]:
    """(track, detection) pairs: the ``high``-score detections (D,) first, then the others against the
    tracks still free, so a low-score detection never takes a track from a confident one."""
    pairs = gated_assignment(cost, feasible & high[None])[0]
    taken = {ti for ti, _ in pairs}
    free = np.array([ti not in taken for ti in range(cost.shape[0])])
    return pairs + gated_assignment(cost, feasible & ~high[None] & free[:, None])[0]


def gated_assignment(cost: np.ndarray, feasible: np.ndarray) -> tuple[list[tuple[int, int]], list[int]]:
    """Globally minimum-cost (row, column) pairs of ``cost`` (T, D) among the ``feasible`` (T, D) ones
    (inside the gate), and the unmatched columns."""
    n_cols = cost.shape[1]
    if cost.size == 0:
        return [], list(range(n_cols))
    inside = feasible & np.isfinite(cost)
    # Out-of-gate pairs get a cost dwarfing any feasible total so they are chosen only when forced.
    rows, cols = linear_sum_assignment(np.where(inside, cost, 1e9))
    pairs = [(int(r), int(c)) for r, c in zip(rows, cols) if inside[r, c]]
    taken = {c for _, c in pairs}
    return pairs, [c for c in range(n_cols) if c not in taken]
