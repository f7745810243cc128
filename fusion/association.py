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

    n_cols = cost.shape[1]
    inside = feasible & np.isfinite(cost)
    rows, cols = np.flatnonzero(inside.any(1)), np.flatnonzero(inside.any(0))
    if not len(rows):
        return [], list(range(n_cols))
    # Only rows and columns with a feasible pair take part (the same optimum, a smaller problem); out-of-gate
    # pairs among them get a cost dwarfing any feasible total so they are chosen only when forced.
    sub = np.ix_(rows, cols)
    r, c = linear_sum_assignment(np.where(inside[sub], cost[sub], 1e9))
    r, c = rows[r], cols[c]
    ok = inside[r, c]
    pairs = list(zip(r[ok].tolist(), c[ok].tolist()))
    taken = set(c[ok].tolist())
    return pairs, [j for j in range(n_cols) if j not in taken]
