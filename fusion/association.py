"""Association of detections with tracks: the gated global (Hungarian) assignment, in two passes by
detection score (the costs come from ``fusion.kernels``)."""
from __future__ import annotations

import numpy as np


def two_pass_assignment(cost: np.ndarray, feasible: np.ndarray, high: np.ndarray) -> list[tuple[int, int]]:
    """(track, detection) pairs: the ``high``-score detections (D,) first, then the others against the
    tracks still free, so a low-score detection never takes a track from a confident one."""
    pairs = gated_assignment(cost, feasible & high[None])[0]
    free = np.ones(cost.shape[0], bool)
    free[[ti for ti, _ in pairs]] = False
    return pairs + gated_assignment(cost, feasible & ~high[None] & free[:, None])[0]


def gated_assignment(cost: np.ndarray, feasible: np.ndarray) -> tuple[list[tuple[int, int]], list[int]]:
    """Globally minimum-cost (row, column) pairs of ``cost`` (T, D) among the ``feasible`` (T, D) ones
    (inside the gate), and the unmatched columns."""
    from scipy.optimize import linear_sum_assignment  # here: importing scipy.optimize takes 0.7 s

    inside = feasible & np.isfinite(cost)
    rows, cols = np.flatnonzero(inside.any(1)), np.flatnonzero(inside.any(0))
    unmatched = np.ones(cost.shape[1], bool)
    if len(rows):
        # Only rows and columns with a feasible pair take part (the same optimum, a smaller problem); out-of-gate
        # pairs among them get a cost dwarfing any feasible total so they are chosen only when forced.
        sub_inside = inside[rows][:, cols]
        r, c = linear_sum_assignment(np.where(sub_inside, cost[rows][:, cols], 1e9))
        ok = sub_inside[r, c]
        r, c = rows[r[ok]].tolist(), cols[c[ok]].tolist()
        unmatched[c] = False
    else:
        r, c = [], []
    return list(zip(r, c)), np.flatnonzero(unmatched).tolist()
