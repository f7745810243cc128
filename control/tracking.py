"""Path and speed tracking laws (batched): pure pursuit for steering, PID for speed.

Every function takes a leading batch dimension B so that the same laws run for the real ego
(B = 1) and for the planner's forward simulation of many proposals at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def fast_clip(x, lo, hi):
    """np.clip without its per-call overhead (hot loops on small arrays)."""
    return np.minimum(np.maximum(x, lo), hi)


@dataclass(frozen=True)
class PurePursuitParams:
    """Lookahead distance Ld = clip(min + gain * v + quad_gain * v^2, min, max) [m].

    The quadratic term keeps lookahead short on slow, tight curves (roundabouts) and long at
    highway speed, where a short lookahead makes lane changes abrupt.
    """

    lookahead_min_m: float = 3.0
    lookahead_gain_s: float = 0.1
    lookahead_quad_s2pm: float = 0.02
    lookahead_max_m: float = 30.0


@dataclass(frozen=True)
class SpeedPidParams:
    """PID on the speed error [m/s] now -> acceleration [m/s^2], plus the reference's acceleration
    ``preview_s`` ahead as feed-forward (the lead makes up for the command's rate limit). The error
    is taken at the current time: a previewed error would add ``kp * preview * accel`` to every
    ramp and overshoot the planned acceleration."""

    kp: float = 1.2
    ki: float = 0.1
    kd: float = 0.0
    integral_limit: float = 5.0
    preview_s: float = 0.1


def path_arc_length(path_xy: np.ndarray) -> np.ndarray:
    """Cumulative arc length (B, N) [m] of paths (B, N, 2)."""
    seg = np.linalg.norm(np.diff(path_xy, axis=1), axis=-1)
    return np.concatenate([np.zeros((path_xy.shape[0], 1)), np.cumsum(seg, axis=1)], axis=1)


def point_at_arc_length(path_xy: np.ndarray, s: np.ndarray, s_query: np.ndarray) -> np.ndarray:
    """Positions (B, 2) at arc lengths ``s_query`` (B,) along each path (clamped to the ends)."""
    b = np.arange(path_xy.shape[0])
    n = path_xy.shape[1]
    # no mutate: < is equivalent (at a vertex it picks the neighbouring segment, which ends there)
    reached = s <= s_query[:, None]  # pragma: no mutate
    k = fast_clip(reached.sum(axis=1) - 1, 0, n - 2)
    seg = np.maximum(s[b, k + 1] - s[b, k], 1e-9)
    t = fast_clip((s_query - s[b, k]) / seg, 0.0, 1.0)
    return path_xy[b, k] + t[:, None] * (path_xy[b, k + 1] - path_xy[b, k])


def pure_pursuit_curvature(state: np.ndarray, path_xy: np.ndarray, params: PurePursuitParams,
                           s: np.ndarray | None = None, slip_rad: np.ndarray | float = 0.0) -> np.ndarray:
    """Curvature [1/m] (B,) that steers states (B, 4) onto the lookahead point of paths (B, N, 2).

    The angle to the lookahead point is measured from the direction of motion (yaw + slip angle
    at the centre of gravity), which removes the steady corner-cutting a yaw-referenced pursuit
    shows on curves. When a path is degenerate (a stopped trajectory) the curvature is zero.
    """
    if s is None:
        s = path_arc_length(path_xy)
    pos, yaw, v = state[:, :2], state[:, 2], state[:, 3]
    d2 = np.sum((path_xy - pos[:, None, :]) ** 2, axis=-1)
    nearest = np.argmin(d2, axis=1)
    s_near = s[np.arange(len(s)), nearest]
    speed = np.abs(v)
    lookahead = fast_clip(params.lookahead_min_m + params.lookahead_gain_s * speed + params.lookahead_quad_s2pm * speed ** 2,
                        params.lookahead_min_m, params.lookahead_max_m)
    target = point_at_arc_length(path_xy, s, s_near + lookahead)
    dx, dy = (target - pos).T
    dist = np.hypot(dx, dy)
    alpha = np.arctan2(dy, dx) - (yaw + slip_rad)
    curvature = 2.0 * np.sin(alpha) / np.maximum(dist, 1e-6)
    return np.where(dist > 0.5, curvature, 0.0)


def reference_at(t_s: np.ndarray, values: np.ndarray, t_query: float) -> np.ndarray:
    """Interpolate per-row references (B, N) sampled at shared times (N,) at ``t_query`` -> (B,)."""
    tq = float(fast_clip(t_query, t_s[0], t_s[-1]))
    # no mutate: side="left" is equivalent on increasing stamps (at a sample both give its value)
    after = np.searchsorted(t_s, tq, side="right")  # pragma: no mutate
    k = int(fast_clip(after - 1, 0, len(t_s) - 2))
    w = (tq - t_s[k]) / max(t_s[k + 1] - t_s[k], 1e-9)
    return values[:, k] * (1.0 - w) + values[:, k + 1] * w
