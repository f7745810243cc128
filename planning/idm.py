"""Intelligent Driver Model (Treiber et al. 2000), batched along a path."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from control.tracking import fast_clip as _clip


@dataclass(frozen=True)
class IdmParams:
    """IDM parameters: max accel a [m/s^2], comfortable decel b [m/s^2], jam gap s0 [m],
    time headway T [s], exponent delta, and the hard braking floor [m/s^2]."""

    accel_max_mps2: float = 2.3
    decel_comfort_mps2: float = 3.0
    min_gap_m: float = 3.0
    headway_s: float = 1.0
    delta: float = 4.0
    decel_max_mps2: float = 6.0
    """Braking floor of emergency profiles [m/s^2]."""
    decel_limit_mps2: float = 4.0
    """Braking floor of comfortable profiles [m/s^2] (nuPlan's comfort bound is 4.05)."""
    max_jerk_mps3: float = 4.0
    """Rate limit of a comfortable profile's acceleration [m/s^3] (nuPlan's comfort bound is 4.13)."""
    emergency_jerk_mps3: float = 15.0
    """Rate limit of an emergency profile's acceleration [m/s^3] (the vehicle's own limit)."""


def idm_accel(v: np.ndarray, v0: np.ndarray, gap_m: np.ndarray, dv: np.ndarray, p: IdmParams) -> np.ndarray:
    """IDM acceleration [m/s^2] for speeds v, desired speeds v0, bumper gaps and approach rates dv = v - v_lead
    (floored at ``decel_max_mps2``)."""
    stop = v0 < 0.5  # a 'stop' proposal brakes to standstill and stays there (plain IDM would creep)
    v0 = np.maximum(v0, 0.5)
    s_star = p.min_gap_m + np.maximum(0.0, v * p.headway_s + v * dv / (2.0 * np.sqrt(p.accel_max_mps2 * p.decel_comfort_mps2)))
    free = np.where(stop, -np.minimum(np.maximum(v, 0.0), 1.0), 1.0 - (np.maximum(v, 0.0) / v0) ** p.delta)
    interaction = (s_star / np.maximum(gap_m, 0.1)) ** 2
    return _clip(p.accel_max_mps2 * (free - interaction), -p.decel_max_mps2, p.accel_max_mps2)


def idm_rollout(v_init: float, v0: np.ndarray, lead_s_m: np.ndarray, lead_v_mps: np.ndarray,
                horizon_s: float, dt_s: float, p: IdmParams, a_init: float = 0.0,
                emergency: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Roll out IDM for B proposals along their paths, the ego starting at s = 0.

    ``lead_s_m`` (B,) is the bumper gap to the leader at t = 0 (inf for none), ``lead_v_mps`` (B,) its
    speed along the path, held constant. The acceleration starts from ``a_init``. Comfortable
    profiles change it by at most ``max_jerk_mps3 * dt`` per step and never brake harder than
    ``decel_limit_mps2``; those flagged in ``emergency`` (B,) use ``emergency_jerk_mps3`` and
    ``decel_max_mps2``. Returns s (B, K+1) [m] and v (B, K+1) [m/s] with K = round(horizon / dt).
    """
    k_steps = int(round(horizon_s / dt_s))
    b = len(v0)
    s = np.zeros((b, k_steps + 1))
    v = np.zeros((b, k_steps + 1))
    v[:, 0] = v_init
    lead_s = np.where(np.isfinite(lead_s_m), lead_s_m, 1e6)
    a = np.full(b, float(a_init))
    emergency = np.zeros(b, dtype=bool) if emergency is None else np.asarray(emergency, dtype=bool)
    jerk_step = np.where(emergency, p.emergency_jerk_mps3, p.max_jerk_mps3) * dt_s
    floor = np.where(emergency, -p.decel_max_mps2, -p.decel_limit_mps2)
    for k in range(k_steps):
        gap = lead_s + lead_v_mps * k * dt_s - s[:, k]
        a_want = np.maximum(idm_accel(v[:, k], v0, gap, v[:, k] - lead_v_mps, p), floor)
        a = _clip(a_want, a - jerk_step, a + jerk_step)
        v_next = np.maximum(v[:, k] + a * dt_s, 0.0)
        a = np.where(v_next <= 0.0, np.maximum(a, 0.0), a)  # a stopped car does not keep decelerating
        s[:, k + 1] = s[:, k] + 0.5 * (v[:, k] + v_next) * dt_s
        v[:, k + 1] = v_next
    return s, v
