"""PDM-style scoring of forward-simulated proposals against predicted tracks."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from planning.geometry import box_corners, boxes_overlap


_NO_LIMIT_MPS = 100.0
"""Speed limit assumed for a crossing track on no lane (finite, so its growth stays finite)."""

_WAITING_MPS = 0.5
"""Below this speed a yield proposal stands at its stop line: crossing traffic reaching it there is
not its doing."""


@dataclass(frozen=True)
class ScoringParams:
    """Weights of the weighted average and the gates' thresholds (nuPlan/PDM-style)."""

    w_ttc: float = 5.0
    w_progress: float = 5.0
    w_comfort: float = 2.0
    w_lane_keep: float = 0.1
    w_route: float = 2.0
    ttc_horizon_s: float = 1.0
    collision_margin_m: float = 0.3
    uncertainty_growth_lon_mps: float = 0.5
    """Predicted boxes grow by this much per second of prediction along the track's heading [m/s]."""
    uncertainty_growth_lat_mps: float = 0.1
    """... and across it [m/s], for the uncertainty of where other drivers will be."""
    speed_std_growth: float = 1.0
    """... or, when larger, by this many standard deviations of the track's speed estimate (from the
    world model's covariance: a young or poorly seen track's velocity is a guess) [m/s per m/s]."""
    conflict_margin_s: float = 0.5
    """Crossing tracks' predicted boxes are stretched along their heading by this many seconds of
    their speed, front and back: the ego clears a conflict point this long before they arrive and
    enters it this long after they left (a time-to-conflict margin for both)."""
    crossing_accel_mps2: float = 1.0
    """... and grown forward by what they would gain accelerating at this rate [m/s^2]."""
    crossing_heading_rad: float = 0.5
    """A track is crossing when its heading differs from the ego path's nearest heading by more."""
    offroad_margin_m: float = 0.6
    comfort_max_accel_mps2: float = 2.4
    comfort_min_accel_mps2: float = -4.05
    comfort_max_jerk_mps3: float = 4.13
    comfort_max_lat_accel_mps2: float = 4.89
    """Comfort bounds of a rollout (nuPlan's thresholds), checked on its simulated accelerations."""


@dataclass(frozen=True)
class Rollouts:
    """Forward-simulated ego states for B proposals over K+1 times.

    ``states`` (B, K+1, 4): x, y, yaw, speed; ``accel`` (B, K) [m/s^2]; ``offroad_m`` (B, K+1) lateral
    distance beyond the drivable band [m] (<= 0 is on road); ``changes_lane`` (B,) bool;
    ``on_route`` (B,) bool; ``dt_s`` the step [s].
    """

    states: np.ndarray
    accel: np.ndarray
    offroad_m: np.ndarray
    changes_lane: np.ndarray
    on_route: np.ndarray
    dt_s: float


def stretch_crossing(pred: np.ndarray, crossing: np.ndarray, times_s: np.ndarray, p: ScoringParams,
                     speed_limit_mps: np.ndarray | None = None) -> np.ndarray:
    """Lengthen crossing tracks' predicted boxes (N, K, 7): by their speed times the conflict margin,
    front and back, and forward by the extra distance they would cover speeding up at
    ``crossing_accel_mps2`` up to their lane's ``speed_limit_mps`` (N,) (a car creeping into a
    junction may go; one already at the limit will not go faster)."""
    out = pred.copy()
    speed = np.hypot(pred[..., 2], pred[..., 3])
    limit = np.full(len(pred), _NO_LIMIT_MPS) if speed_limit_mps is None else \
        np.minimum(speed_limit_mps, _NO_LIMIT_MPS)  # off-lane tracks: no limit (finite)
    a = max(p.crossing_accel_mps2, 1e-9)
    t_up = np.clip(limit - speed[:, 0], 0.0, None)[:, None] / a          # time to reach the limit
    t = times_s[None]
    ahead = np.where(t < t_up, 0.5 * a * t ** 2, 0.5 * a * t_up ** 2 + a * t_up * (t - t_up))
    ahead = ahead * crossing[:, None]
    out[..., 5] += np.where(crossing[:, None], 2.0 * p.conflict_margin_s * speed, 0.0) + ahead
    out[..., 0] += 0.5 * ahead * np.cos(pred[..., 4])
    out[..., 1] += 0.5 * ahead * np.sin(pred[..., 4])
    return out


def inflate_predictions(pred: np.ndarray, times_s: np.ndarray, p: ScoringParams,
                        speed_std_mps: np.ndarray | None = None) -> np.ndarray:
    """Grow predicted boxes (N, K, 7) with prediction time: later positions are less certain, the more
    so the less certain each track's speed (``speed_std_mps`` (N,), 0 when not given)."""
    out = pred.copy()
    std = np.zeros(len(pred)) if speed_std_mps is None else np.asarray(speed_std_mps)
    lon = np.maximum(p.uncertainty_growth_lon_mps, p.speed_std_growth * std)
    out[..., 5] += 2.0 * lon[:, None] * times_s[None]
    out[..., 6] += 2.0 * p.uncertainty_growth_lat_mps * times_s[None]
    return out


def first_collision_step(r: Rollouts, pred: np.ndarray, ego_len: float, ego_wid: float, margin: float,
                         crossing: np.ndarray | None = None, waiting: np.ndarray | None = None) -> np.ndarray:
    """(B,) index of the first step where a rollout overlaps a predicted track the ego is
    responsible for; K (the number of steps) where it never does.

    A track overlapping from behind counts only when the proposal changes lane (a cut-in), or when
    the track is ``crossing`` (N,) the ego's path (ring or cross traffic, which may not yield: the
    ego must not be in its way), except while a ``waiting`` (B,) proposal stands at its stop line.
    Pairs farther apart than their bounding circles are discarded before the exact box test.
    """
    b, k_steps = r.states.shape[:2]
    never = np.full(b, k_steps)
    rel = pred[None, ..., :2] - r.states[:, None, :, :2]                       # (B, N, K, 2)
    ego_l, ego_w = ego_len + 2 * margin, ego_wid + 2 * margin                  # the ego's box with the margin
    near = _within_bounding_circles(rel, pred, ego_l, ego_w)
    if not near.any():
        return never
    bi, ni, ki = np.nonzero(near)
    st, pr = r.states[bi, ki], pred[ni, ki]
    ego = box_corners(st[:, 0], st[:, 1], st[:, 2], ego_l, ego_w)
    other = box_corners(pr[:, 0], pr[:, 1], pr[:, 4], pr[:, 5], pr[:, 6])
    hit = boxes_overlap(ego, other)
    d = rel[bi, ni, ki]
    ahead = d[:, 0] * np.cos(st[:, 2]) + d[:, 1] * np.sin(st[:, 2]) > 0
    at_fault = hit & (ahead | r.changes_lane[bi])
    if crossing is not None:
        waits = np.zeros(b, dtype=bool) if waiting is None else waiting
        at_fault |= hit & crossing[ni] & ~(waits[bi] & (st[:, 3] < _WAITING_MPS))
    np.minimum.at(never, bi[at_fault], ki[at_fault])
    return never


def _within_bounding_circles(rel: np.ndarray, pred: np.ndarray, ego_len: float, ego_wid: float) -> np.ndarray:
    """(B, N, K) True where the centre offsets ``rel`` (B, N, K, 2) of ego boxes to predicted boxes
    (N, K, 7) are shorter than the sum of their bounding radii: the only pairs that can overlap."""
    reach = 0.5 * np.hypot(ego_len, ego_wid) + 0.5 * np.hypot(pred[..., 5], pred[..., 6])
    return np.hypot(rel[..., 0], rel[..., 1]) < reach[None]


def collisions(r: Rollouts, pred: np.ndarray, ego_len: float, ego_wid: float, margin: float) -> np.ndarray:
    """(B,) True where a rollout collides (see ``first_collision_step``)."""
    return first_collision_step(r, pred, ego_len, ego_wid, margin) < r.states.shape[1]


def ttc_violations(r: Rollouts, pred: np.ndarray, ego_len: float, ego_wid: float, p: ScoringParams) -> np.ndarray:
    """(B,) True where the ego, extrapolated at constant velocity from a rollout state, would hit a
    track within ``ttc_horizon_s`` (checked at every step of the horizon, from every state).

    ``pred`` should be constant-velocity predictions, as nuPlan's time-to-collision assumes: a ring
    car predicted along its curved lane never meets the ego's straight extrapolation.
    """
    b = r.states.shape[0]
    out = np.zeros(b, dtype=bool)
    k_full = max(1, int(round(p.ttc_horizon_s / r.dt_s)))
    for k_ahead in range(1, k_full + 1):
        st = r.states[:, :-k_ahead].copy()                   # empty once k_ahead passes the rollout
        dist = st[..., 3] * k_ahead * r.dt_s
        st[..., 0] += dist * np.cos(st[..., 2])
        st[..., 1] += dist * np.sin(st[..., 2])
        later = pred[:, k_ahead:]
        fake = replace(r, states=st)
        out |= collisions(fake, later, ego_len, ego_wid, 0.0)
    return out


def comfortable(r: Rollouts, p: ScoringParams) -> np.ndarray:
    """(B,) True where a rollout keeps acceleration, jerk and lateral acceleration within the bounds."""
    lon = (r.accel <= p.comfort_max_accel_mps2 + 1e-6) & (r.accel >= p.comfort_min_accel_mps2 - 1e-6)
    jerk = np.abs(np.diff(r.accel)) <= p.comfort_max_jerk_mps3 * r.dt_s + 1e-6
    # Yaw rate over two steps: the coarse-step pure pursuit weaves a little from step to step, which
    # the real controller at its finer period does not; a lane change's turn spans many steps.
    yaw = np.unwrap(r.states[..., 2])
    yaw_rate = (yaw[:, 2:] - yaw[:, :-2]) / (2.0 * r.dt_s)
    lat = np.abs(r.states[:, 1:-1, 3] * yaw_rate) <= p.comfort_max_lat_accel_mps2
    return lon.all(axis=1) & jerk.all(axis=1) & lat.all(axis=1)


def score(r: Rollouts, pred: np.ndarray, ego_len: float, ego_wid: float, prefer_lane: np.ndarray,
          p: ScoringParams, pred_cv: np.ndarray | None = None, crossing: np.ndarray | None = None,
          waiting: np.ndarray | None = None, times_s: np.ndarray | None = None,
          speed_limit_mps: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Scores (B,) in [0, 1]: gates (no collision, on road) times a weighted average of terms.

    ``pred`` (N, K+1, 7) are the tracks' predictions for the collision gate; ``pred_cv`` their
    constant-velocity extrapolations for the TTC term (``pred`` when not given); ``crossing`` (N,)
    flags tracks crossing the ego's path (their boxes stretched by the conflict margin, overlaps
    counted from any side unless the proposal is one of the ``waiting`` (B,) yields, stopped).
    """
    if crossing is not None and crossing.any():
        times = np.arange(pred.shape[1]) * r.dt_s if times_s is None else times_s
        pred = stretch_crossing(pred, crossing, times, p, speed_limit_mps)
    first_hit = first_collision_step(r, pred, ego_len, ego_wid, p.collision_margin_m, crossing, waiting)
    collide = first_hit < r.states.shape[1]
    offroad = (r.offroad_m > p.offroad_margin_m).any(axis=1)
    ttc_ok = ~ttc_violations(r, pred if pred_cv is None else pred_cv, ego_len, ego_wid, p)
    progress = np.linalg.norm(r.states[:, -1, :2] - r.states[:, 0, :2], axis=1)
    best = progress.max()
    progress_score = progress / best if best > 5.0 else np.ones_like(progress)
    comfort = comfortable(r, p)
    weights = p.w_ttc + p.w_progress + p.w_comfort + p.w_lane_keep + p.w_route
    avg = (p.w_ttc * ttc_ok + p.w_progress * progress_score + p.w_comfort * comfort
           + p.w_lane_keep * prefer_lane + p.w_route * r.on_route) / weights
    total = (~collide) * (~offroad) * avg
    terms = {"collision": collide, "collision_time_s": first_hit * r.dt_s, "offroad": offroad, "ttc_ok": ttc_ok, "progress": progress_score, "comfort": comfort}
    return total, terms
