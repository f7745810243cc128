"""Association of detections with tracks: the gated global (Hungarian) assignment, in two passes by
detection score (the costs come from ``fusion.kernels``)."""
from __future__ import annotations

import numpy as np

from fusion.kernels import feasible_block


def two_pass_assignment(cost: np.ndarray, feasible: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(track indices (M,), detection indices (M,)) of the pairs: the ``high``-score detections (D,) first,
    then the others against the tracks still free, so a low-score detection never takes a track from a
    confident one."""
    ti, di = assign(cost, feasible & high[None])
    free = np.ones(cost.shape[0], bool)
    free[ti] = False
    weak_ti, weak_di = assign(cost, feasible & ~high[None] & free[:, None])
    return np.concatenate([ti, weak_ti]), np.concatenate([di, weak_di])


def gated_assignment(cost: np.ndarray, feasible: np.ndarray) -> tuple[list[tuple[int, int]], list[int]]:
    """Globally minimum-cost (row, column) pairs of ``cost`` (T, D) among the ``feasible`` (T, D) ones
    (inside the gate), and the unmatched columns."""
    rows, cols = assign(cost, feasible)
    unmatched = np.ones(cost.shape[1], bool)
    unmatched[cols] = False
    return list(zip(rows.tolist(), cols.tolist())), np.flatnonzero(unmatched).tolist()


def assign(cost: np.ndarray, feasible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows (M,) and columns (M,) of the globally minimum-cost pairs of ``cost`` (T, D) among the ``feasible``
    (T, D) ones, by row."""
    from scipy.optimize import linear_sum_assignment  # here: importing scipy.optimize takes 0.7 s

    # Only rows and columns with a feasible pair take part (the same optimum, a smaller problem); out-of-gate
    # pairs among them cost a number dwarfing any feasible total, so they are chosen only when forced.
    rows, cols, block, inside = feasible_block(cost, feasible)
    if not len(rows):
        return rows, rows
    r, c = linear_sum_assignment(block)
    ok = inside[r, c]
    return rows[r[ok]], cols[c[ok]]
