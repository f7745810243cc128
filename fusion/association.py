"""Association of detections with tracks: box overlap in the bird's-eye view and the gated global
(Hungarian) assignment, in two passes by detection score."""
from __future__ import annotations

import numpy as np

from perception.geometry import bev_corners, bev_overlap, wrap_angle


def box_overlap(track_xy: np.ndarray, track_lw: np.ndarray, track_yaw: np.ndarray, det_xy: np.ndarray,
                det_lw: np.ndarray, det_yaw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BEV (IoU, generalised IoU) (T, D) of track boxes (centres (T, 2) [m], length/width (T, 2) [m], yaw
    (T,) [rad]) with detection boxes (same for D). Pairs whose axis-aligned bounds do not touch get IoU 0
    and generalised IoU -1, which skips the polygon clipping for them (their true value lies in (-1, 0))."""
    a = bev_corners(track_xy, track_lw[:, 0], track_lw[:, 1], track_yaw)
    b = bev_corners(det_xy, det_lw[:, 0], det_lw[:, 1], det_yaw)
    lo_a, hi_a, lo_b, hi_b = a.min(1), a.max(1), b.min(1), b.max(1)
    touch = ((lo_a[:, None, 0] < hi_b[None, :, 0]) & (lo_b[None, :, 0] < hi_a[:, None, 0])
             & (lo_a[:, None, 1] < hi_b[None, :, 1]) & (lo_b[None, :, 1] < hi_a[:, None, 1]))
    iou, giou = np.zeros(touch.shape), np.full(touch.shape, -1.0)
    if touch.any():
        ti, di = np.nonzero(touch)
        turn = np.abs(wrap_angle(2.0 * (det_yaw[di] - track_yaw[ti]))) / 2.0  # boxes are symmetric under pi
        aligned = turn < 0.1  # within 6 degrees the aligned formula is within a few per cent
        if aligned.any():
            k = (ti[aligned], di[aligned])
            iou[k], giou[k] = aligned_overlap(track_xy[k[0]], track_lw[k[0]], track_yaw[k[0]], det_xy[k[1]],
                                              det_lw[k[1]])
        if (~aligned).any():
            k = (ti[~aligned], di[~aligned])
            iou[k], giou[k] = bev_overlap(a[k[0]], b[k[1]])
    return iou, giou


def aligned_overlap(xy_a: np.ndarray, lw_a: np.ndarray, yaw_a: np.ndarray, xy_b: np.ndarray, lw_b: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(IoU, generalised IoU) (P,) of box pairs with (nearly) the same heading, exact and cheap in the
    first box's frame (the enclosing box is taken in that frame)."""
    c, s = np.cos(yaw_a), np.sin(yaw_a)
    d = xy_b - xy_a
    rel = np.column_stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]])
    lo = np.maximum(-lw_a / 2.0, rel - lw_b / 2.0)
    hi = np.minimum(lw_a / 2.0, rel + lw_b / 2.0)
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=1)
    union = np.prod(lw_a, 1) + np.prod(lw_b, 1) - inter
    hull = np.prod(np.maximum(lw_a / 2.0, rel + lw_b / 2.0) - np.minimum(-lw_a / 2.0, rel - lw_b / 2.0), axis=1)
    iou = inter / np.maximum(union, 1e-9)
    return iou, iou - (hull - union) / np.maximum(hull, 1e-9)


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
    from scipy.optimize import linear_sum_assignment  # here: importing scipy.optimize takes 0.7 s

    n_cols = cost.shape[1]
    if cost.size == 0:
        return [], list(range(n_cols))
    inside = feasible & np.isfinite(cost)
    # Out-of-gate pairs get a cost dwarfing any feasible total so they are chosen only when forced.
    rows, cols = linear_sum_assignment(np.where(inside, cost, 1e9))
    pairs = [(int(r), int(c)) for r, c in zip(rows, cols) if inside[r, c]]
    taken = {c for _, c in pairs}
    return pairs, [c for c in range(n_cols) if c not in taken]
