"""Compiled inner loops of the tracker (numba): every track against every detection of a batch, and the
Kalman correction of the associated pairs. With about 50 tracks and 50 detections per batch the same
arithmetic written as numpy array operations spends most of its time on the operations' per-call
overhead (about 60 calls per batch on arrays of a few thousand numbers), and the tracker then missed
its 2 ms per tick budget; here each step is one call.

Each kernel is compiled at its first call in a fresh checkout (10-20 s for all of them on 2 cores; ``make
install`` does it with a small ``drivestack bench-tracker`` run) and the machine code is cached beside this
file (``cache=True``), so later processes load it. ``NUMBA_DISABLE_JIT=1`` runs them as plain Python.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

ALIGNED_RAD = 0.1
"""Boxes whose headings differ by less than this (modulo pi) overlap as if aligned: the exact and cheap
formula in the first box's frame, within a few per cent of the polygon's."""
INFLATION_STEPS = 4
"""Steps of the covariance-matching iteration (``inflation_factor``)."""


@njit(cache=True)
def innovation_matrix(xs: np.ndarray, Ps: np.ndarray, z: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared Mahalanobis distances d^2 (T, D) and ln det S (T, D) of the innovations of detections
    z (D, 2), R (D, 2, 2) against track states xs (T, 4), Ps (T, 4, 4) (position-only measurement)."""
    T, D = xs.shape[0], z.shape[0]
    d2, log_det = np.empty((T, D)), np.empty((T, D))
    for i in range(T):
        for j in range(D):
            a, b, c = Ps[i, 0, 0] + R[j, 0, 0], Ps[i, 0, 1] + R[j, 0, 1], Ps[i, 1, 1] + R[j, 1, 1]
            vx, vy = z[j, 0] - xs[i, 0], z[j, 1] - xs[i, 1]
            d2[i, j] = _mahalanobis_sq(a, b, c, vx, vy)
            log_det[i, j] = math.log(a * c - b * b)
    return d2, log_det


@njit(cache=True)
def overlap_matrix(xy_a: np.ndarray, lw_a: np.ndarray, yaw_a: np.ndarray, xy_b: np.ndarray, lw_b: np.ndarray,
                   yaw_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BEV (IoU, generalised IoU) (A, B) of boxes a (centres (A, 2) [m], length/width (A, 2) [m], yaw (A,)
    [rad]) with boxes b (same for B). The generalised IoU's enclosing box is taken along a's axes (exact for
    aligned boxes, a cheap bound on the convex hull otherwise, so overlapping boxes can score below 0).
    Pairs whose axis-aligned bounds do not touch get IoU 0 and generalised IoU -1 (their true value lies
    in (-1, 0))."""
    A, B = xy_a.shape[0], xy_b.shape[0]
    iou, giou = np.zeros((A, B)), np.full((A, B), -1.0)
    ca, cb = _corners(xy_a, lw_a, yaw_a), _corners(xy_b, lw_b, yaw_b)
    box_a, box_b = _bounds(ca), _bounds(cb)
    for i in range(A):
        c, s = math.cos(yaw_a[i]), math.sin(yaw_a[i])
        hl, hw = 0.5 * lw_a[i, 0], 0.5 * lw_a[i, 1]
        for j in range(B):
            if not (box_a[i, 0] < box_b[j, 2] and box_b[j, 0] < box_a[i, 2]
                    and box_a[i, 1] < box_b[j, 3] and box_b[j, 1] < box_a[i, 3]):
                continue
            turn = abs((2.0 * (yaw_b[j] - yaw_a[i]) + math.pi) % (2.0 * math.pi) - math.pi) / 2.0  # pi-symmetric
            if turn < ALIGNED_RAD:  # b taken as turned like a: its extent along a's axes (u, v) is its box
                dx, dy = xy_b[j, 0] - xy_a[i, 0], xy_b[j, 1] - xy_a[i, 1]
                u, v = c * dx + s * dy, -s * dx + c * dy
                u_lo, u_hi = u - 0.5 * lw_b[j, 0], u + 0.5 * lw_b[j, 0]
                v_lo, v_hi = v - 0.5 * lw_b[j, 1], v + 0.5 * lw_b[j, 1]
                inter = max(min(hl, u_hi) - max(-hl, u_lo), 0.0) * max(min(hw, v_hi) - max(-hw, v_lo), 0.0)
            else:  # the polygons' intersection; b's extent from its corners in a's frame
                inter = _clipped_area(cb[j], ca[i])
                u_lo, u_hi, v_lo, v_hi = math.inf, -math.inf, math.inf, -math.inf
                for k in range(4):
                    dx, dy = cb[j, k, 0] - xy_a[i, 0], cb[j, k, 1] - xy_a[i, 1]
                    u, v = c * dx + s * dy, -s * dx + c * dy
                    u_lo, u_hi, v_lo, v_hi = min(u_lo, u), max(u_hi, u), min(v_lo, v), max(v_hi, v)
            hull = (max(hl, u_hi) - min(-hl, u_lo)) * (max(hw, v_hi) - min(-hw, v_lo))
            union = lw_a[i, 0] * lw_a[i, 1] + lw_b[j, 0] * lw_b[j, 1] - inter
            iou[i, j] = inter / max(union, 1e-9)
            giou[i, j] = iou[i, j] - (hull - union) / max(hull, 1e-9)
    return iou, giou


@njit(cache=True)
def correct_in_place(x: np.ndarray, P: np.ndarray, yaw: np.ndarray, ti: np.ndarray, z: np.ndarray, R: np.ndarray,
                     inflate: np.ndarray, target_d2: float, max_factor: float, measured_yaw: np.ndarray,
                     yaw_gain: float, min_speed_mps: float) -> None:
    """Correct tracks ``ti`` (M,) of the states x (T, 4), covariances P (T, 4, 4) and yaws (T,) in place with
    detections z (M, 2), R (M, 2, 2) and their yaws (M,): where ``inflate`` (M,), the predicted covariance first
    grows until the innovation's d^2 is ``target_d2`` (``inflation_factor``); then the Joseph update; then the
    yaw moves ``yaw_gain`` of the way to the detection's, both turned by pi towards the track's heading
    (``headings``) where that is nearer (a box's front and back look alike)."""
    for m in range(len(ti)):
        i = ti[m]
        if inflate[m]:
            lam = inflation_factor(z[m, 0] - x[i, 0], z[m, 1] - x[i, 1], P[i], R[m], target_d2, max_factor)
            for r in range(4):
                for s in range(4):
                    P[i, r, s] *= lam
        _joseph_in_place(x[i], P[i], z[m], R[m])
        heading, moving = _heading(x[i], P[i], yaw[i], min_speed_mps)
        own = resolve_pi_ambiguity(yaw[i], heading) if moving else yaw[i]
        yaw[i] = _wrap(own + yaw_gain * _wrap(resolve_pi_ambiguity(measured_yaw[m], heading) - own))


@njit(cache=True)
def headings(x: np.ndarray, P: np.ndarray, yaw: np.ndarray, min_speed_mps: float) -> tuple[np.ndarray, np.ndarray]:
    """(heading (T,) [rad], moving (T,)) of tracks x (T, 4), P (T, 4, 4), yaw (T,): the velocity's direction for
    tracks faster than ``min_speed_mps`` and than twice their speed's std (a young track's velocity is a guess),
    else the yaw."""
    heading, moving = np.empty(x.shape[0]), np.zeros(x.shape[0], np.bool_)
    for i in range(x.shape[0]):
        heading[i], moving[i] = _heading(x[i], P[i], yaw[i], min_speed_mps)
    return heading, moving


@njit(cache=True)
def _heading(x: np.ndarray, P: np.ndarray, yaw: float, min_speed_mps: float) -> tuple[float, bool]:
    speed = math.hypot(x[2], x[3])
    moving = speed > min_speed_mps and speed * speed > 2.0 * (P[2, 2] + P[3, 3])
    return (math.atan2(x[3], x[2]) if moving else yaw), moving


@njit(cache=True)
def _joseph_in_place(x: np.ndarray, P: np.ndarray, z: np.ndarray, R: np.ndarray) -> None:
    """One state x (4,), P (4, 4) corrected in place with a position detection z (2,), R (2, 2)."""
    K, A = np.empty((4, 2)), np.empty((4, 4))
    a, b, c = P[0, 0] + R[0, 0], P[0, 1] + R[0, 1], P[1, 1] + R[1, 1]
    det = a * c - b * b
    for r in range(4):  # K = P H^T S^-1, with P H^T the first two columns of P
        K[r, 0] = (P[r, 0] * c - P[r, 1] * b) / det
        K[r, 1] = (P[r, 1] * a - P[r, 0] * b) / det
    vx, vy = z[0] - x[0], z[1] - x[1]
    for r in range(4):
        x[r] += K[r, 0] * vx + K[r, 1] * vy
        for s in range(4):  # A = (I - KH) P
            A[r, s] = P[r, s] - K[r, 0] * P[0, s] - K[r, 1] * P[1, s]
    for r in range(4):
        for s in range(4):  # A (I - KH)^T + K R K^T
            P[r, s] = (A[r, s] - A[r, 0] * K[s, 0] - A[r, 1] * K[s, 1]
                       + K[r, 0] * (R[0, 0] * K[s, 0] + R[0, 1] * K[s, 1])
                       + K[r, 1] * (R[1, 0] * K[s, 0] + R[1, 1] * K[s, 1]))
    for r in range(4):
        for s in range(r):
            P[r, s] = P[s, r] = 0.5 * (P[r, s] + P[s, r])


@njit(cache=True)
def _corners(xy: np.ndarray, lw: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """Corners (N, 4, 2) [m] of rotated rectangles, counter-clockwise from the front left."""
    out = np.empty((xy.shape[0], 4, 2))
    for n in range(xy.shape[0]):
        c, s = math.cos(yaw[n]), math.sin(yaw[n])
        for k in range(4):
            dx = (0.5 if k == 0 or k == 3 else -0.5) * lw[n, 0]
            dy = (0.5 if k < 2 else -0.5) * lw[n, 1]
            out[n, k, 0] = xy[n, 0] + c * dx - s * dy
            out[n, k, 1] = xy[n, 1] + s * dx + c * dy
    return out


@njit(cache=True)
def _bounds(corners: np.ndarray) -> np.ndarray:
    """Axis-aligned bounds (N, 4): x min, y min, x max, y max of polygons (N, K, 2)."""
    out = np.empty((corners.shape[0], 4))
    for n in range(corners.shape[0]):
        out[n, 0], out[n, 1], out[n, 2], out[n, 3] = math.inf, math.inf, -math.inf, -math.inf
        for k in range(corners.shape[1]):
            out[n, 0], out[n, 1] = min(out[n, 0], corners[n, k, 0]), min(out[n, 1], corners[n, k, 1])
            out[n, 2], out[n, 3] = max(out[n, 2], corners[n, k, 0]), max(out[n, 3], corners[n, k, 1])
    return out


@njit(cache=True)
def _clipped_area(subject: np.ndarray, clip: np.ndarray) -> float:
    """Area of convex polygon ``subject`` (4, 2) cut by convex counter-clockwise quadrilateral ``clip``
    (4, 2): Sutherland-Hodgman, one half-plane per edge of ``clip`` (at most 8 vertices remain)."""
    px, py, qx, qy = np.empty(8), np.empty(8), np.empty(8), np.empty(8)
    n = 4
    for k in range(4):
        px[k], py[k] = subject[k, 0], subject[k, 1]
    for e in range(4):
        ax, ay = clip[e, 0], clip[e, 1]
        ex, ey = clip[(e + 1) % 4, 0] - ax, clip[(e + 1) % 4, 1] - ay
        m = 0
        for k in range(n):
            k1 = (k + 1) % n
            side = ex * (py[k] - ay) - ey * (px[k] - ax)  # >= 0: left of the edge, inside
            side_next = ex * (py[k1] - ay) - ey * (px[k1] - ax)
            if side >= 0.0:
                qx[m], qy[m] = px[k], py[k]
                m += 1
            if (side >= 0.0) != (side_next >= 0.0):
                t = side / (side - side_next)
                qx[m], qy[m] = px[k] + t * (px[k1] - px[k]), py[k] + t * (py[k1] - py[k])
                m += 1
        n = m
        if n < 3:
            return 0.0
        for k in range(n):
            px[k], py[k] = qx[k], qy[k]
    area = 0.0
    for k in range(n):
        area += px[k] * py[(k + 1) % n] - py[k] * px[(k + 1) % n]
    return 0.5 * abs(area)


@njit(cache=True)
def predict(x: np.ndarray, P: np.ndarray, dt_s: float, heading_rad: np.ndarray, along_std_mps2: float,
            across_std_mps2: float) -> tuple[np.ndarray, np.ndarray]:
    """States x (T, 4) and covariances P (T, 4, 4) of constant-velocity tracks ``dt_s`` later: F x and
    F P F^T + Q, with white-acceleration noise Q oriented along each track's heading (T,) [rad]
    (``along_std_mps2`` along it, ``across_std_mps2`` across)."""
    x_new, P_new = x.copy(), np.empty_like(P)
    dt2 = dt_s * dt_s
    q = np.empty((2, 2))
    for t in range(x.shape[0]):
        x_new[t, 0] += dt_s * x[t, 2]
        x_new[t, 1] += dt_s * x[t, 3]
        c, s = math.cos(heading_rad[t]), math.sin(heading_rad[t])
        va, vc = along_std_mps2 ** 2, across_std_mps2 ** 2
        q[0, 0], q[1, 1] = c * c * va + s * s * vc, s * s * va + c * c * vc
        q[0, 1] = q[1, 0] = c * s * (va - vc)
        for r in range(2):
            for k in range(2):  # blocks of F P F^T, F = [[I, dt I], [0, I]], plus G q G^T, G = [dt^2/2 I; dt I]
                p11, p12, p21, p22 = P[t, r, k], P[t, r, k + 2], P[t, r + 2, k], P[t, r + 2, k + 2]
                P_new[t, r, k] = p11 + dt_s * (p12 + p21) + dt2 * p22 + 0.25 * dt2 * dt2 * q[r, k]
                P_new[t, r, k + 2] = p12 + dt_s * p22 + 0.5 * dt2 * dt_s * q[r, k]
                P_new[t, r + 2, k] = p21 + dt_s * p22 + 0.5 * dt2 * dt_s * q[r, k]
                P_new[t, r + 2, k + 2] = p22 + dt2 * q[r, k]
    return x_new, P_new


@njit(cache=True)
def inflation_factor(vx: float, vy: float, P: np.ndarray, R: np.ndarray, target_d2: float, max_factor: float,
                     steps: int = INFLATION_STEPS) -> float:
    """Factor on a predicted covariance P (4, 4) that brings the innovation (vx, vy)'s d^2 against its position
    block plus R (2, 2) down to ``target_d2`` (covariance matching): d^2(lam) falls with lam, and each of
    ``steps`` steps moves lam by the ratio still to go, inside [1, ``max_factor``]."""
    lam = 1.0
    for _ in range(steps):
        d2 = _mahalanobis_sq(lam * P[0, 0] + R[0, 0], lam * P[0, 1] + R[0, 1], lam * P[1, 1] + R[1, 1], vx, vy)
        lam = min(max(lam * d2 / target_d2, 1.0), max_factor)
    return lam


@njit(cache=True)
def _mahalanobis_sq(a: float, b: float, c: float, vx: float, vy: float) -> float:
    """v^T S^-1 v for S = [[a, b], [b, c]] symmetric positive definite (inverted in closed form)."""
    return (c * vx * vx - 2.0 * b * vx * vy + a * vy * vy) / (a * c - b * b)


@njit(cache=True)
def visibility(rel_xy_m: np.ndarray, radius_m: np.ndarray, blocking: np.ndarray) -> np.ndarray:
    """Unoccluded share (N,) of each object's angular extent as seen from the origin of the positions
    rel_xy_m (N, 2) [m]: ``radius_m`` (N,) half its box's diagonal; only ``blocking`` (N,) objects at
    least 1 m nearer hide it (angles wrapped near +-pi are ignored: rare)."""
    n = rel_xy_m.shape[0]
    rng, az, half = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        rng[i] = max(math.hypot(rel_xy_m[i, 0], rel_xy_m[i, 1]), 1e-3)
        az[i] = math.atan2(rel_xy_m[i, 1], rel_xy_m[i, 0])
        half[i] = math.atan2(radius_m[i], rng[i])
    out = np.empty(n)
    for i in range(n):
        hidden = 0.0
        for j in range(n):
            if j != i and blocking[j] and rng[j] < rng[i] - 1.0:
                hidden += max(min(az[i] + half[i], az[j] + half[j]) - max(az[i] - half[i], az[j] - half[j]), 0.0)
        out[i] = 1.0 - min(hidden / max(2.0 * half[i], 1e-9), 1.0)
    return out


@njit(cache=True)
def feasible_block(cost: np.ndarray, feasible: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rows (R,) and columns (C,) of ``cost`` (T, D) that have a feasible (and finite) pair, their block of
    costs (R, C) with the infeasible pairs at 1e9, and which of the block's pairs are feasible (R, C)."""
    ok = feasible & np.isfinite(cost)
    rows, cols = np.flatnonzero(ok.sum(axis=1) > 0), np.flatnonzero(ok.sum(axis=0) > 0)
    block, inside = np.full((len(rows), len(cols)), 1e9), np.zeros((len(rows), len(cols)), np.bool_)
    for i in range(len(rows)):
        for j in range(len(cols)):
            if ok[rows[i], cols[j]]:
                block[i, j], inside[i, j] = cost[rows[i], cols[j]], True
    return rows, cols, block, inside


@njit(cache=True)
def coverage(rel_xy_m: np.ndarray, range_edges_m: np.ndarray, n_bins: int, half_fov_rad: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """(range bin (N,), inside the field of view and range (N,)) of sensor-frame positions (N, 2) [m]: the
    bin is that of the last edge at or below the range, kept within [0, ``n_bins``)."""
    n = rel_xy_m.shape[0]
    bins, inside = np.zeros(n, np.int64), np.zeros(n, np.bool_)
    for i in range(n):
        rng = math.hypot(rel_xy_m[i, 0], rel_xy_m[i, 1])
        k = -1
        while k + 1 < len(range_edges_m) and range_edges_m[k + 1] <= rng:
            k += 1
        bins[i] = min(max(k, 0), n_bins - 1)
        inside[i] = rng < range_edges_m[-1] and abs(math.atan2(rel_xy_m[i, 1], rel_xy_m[i, 0])) <= half_fov_rad
    return bins, inside


@njit(cache=True)
def _wrap(angle_rad: float) -> float:
    return (angle_rad + math.pi) % (2.0 * math.pi) - math.pi


@njit(cache=True)
def resolve_pi_ambiguity(yaw_rad: float, reference_rad: float) -> float:
    """``yaw_rad`` or ``yaw_rad + pi``, whichever is nearer ``reference_rad`` [rad], wrapped to [-pi, pi)."""
    yaw = _wrap(yaw_rad)
    return yaw if abs(_wrap(yaw - reference_rad)) <= math.pi / 2.0 else _wrap(yaw + math.pi)


@njit(cache=True)
def sensor_view(xy_m: np.ndarray, pose_x_m: float, pose_y_m: float, pose_yaw_rad: float, lw_m: np.ndarray,
                blocking: np.ndarray, range_edges_m: np.ndarray, n_bins: int, half_fov_rad: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What a sensor at the map-frame pose sees of boxes at map positions xy_m (N, >=2) [m] with length and
    width lw_m (N, >=2): their range bins and whether they are in its field of view and range (``coverage``),
    and their unoccluded share (``visibility``; only ``blocking`` (N,) boxes hide others)."""
    n = xy_m.shape[0]
    rel, radius = np.empty((n, 2)), np.empty(n)
    c, s = math.cos(pose_yaw_rad), math.sin(pose_yaw_rad)
    for i in range(n):
        dx, dy = xy_m[i, 0] - pose_x_m, xy_m[i, 1] - pose_y_m
        rel[i, 0], rel[i, 1] = c * dx + s * dy, -s * dx + c * dy
        radius[i] = 0.5 * math.hypot(lw_m[i, 0], lw_m[i, 1])
    bins, inside = coverage(rel, range_edges_m, n_bins, half_fov_rad)
    return bins, inside, visibility(rel, radius, blocking)
