"""Multi-object tracker over 3-D detections from any number of sensors.

One constant-velocity Kalman filter per track, state ``[x_m, y_m, vx_mps, vy_mps]`` in the fixed map
frame, so the ego's own motion never enters the target dynamics: detections (ego frame) are moved to
the map frame with the ego pose before association. Association is global (Hungarian) on the
Mahalanobis distance with a chi-square gate; tracks go tentative -> confirmed (M of N) -> coasting
-> deleted.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from fusion.lanes import locate
from fusion.types import EgoState, LaneMap, Track
from perception.detections import Detections
from perception.geometry import wrap_angle

_H = np.eye(2, 4)
"""Measurement matrix: detections observe the position only."""


@dataclass(frozen=True)
class SensorNoise:
    """Measurement-noise floor of one detector ``source``: variance [m^2] added to each axis of the
    centre covariance it reports (model error the detector does not know about)."""

    source: str
    floor_m2: float


DEFAULT_SENSOR_NOISE = (SensorNoise("lidar", 0.01), SensorNoise("classical", 0.01), SensorNoise("camera", 0.25))


@dataclass(frozen=True)
class TrackerConfig:
    """Tracker parameters (SI units)."""

    accel_along_std_mps2: float = 2.0
    """White-acceleration process noise along the track heading [m/s^2]."""
    accel_across_std_mps2: float = 2.0
    """White-acceleration process noise across the track heading [m/s^2]."""
    init_speed_std_mps: float = 15.0
    """Velocity std of a new track (its velocity starts at zero in the map frame) [m/s]."""
    gate_chi2: float = 13.82
    """Mahalanobis gate on d^2, chi-square with 2 dof (13.82: 99.9 %; 9.21: 99 % loses young tracks
    whose velocity is still poorly known)."""
    log_det_cost: bool = True
    """Associate on d^2 + ln det S (negative log-likelihood) rather than d^2 alone, so a young track
    with a wide covariance cannot steal detections from an established one."""
    confirm_hits: int = 3
    confirm_window: int = 4
    """A tentative track is confirmed after ``confirm_hits`` hits in the last ``confirm_window`` updates."""
    tentative_max_misses: int = 2
    """A tentative track is deleted after this many misses within the window."""
    max_coast_s: float = 1.5
    """A confirmed track unseen for longer than this is deleted [s]."""
    max_position_var_m2: float = 16.0
    """... or when the largest eigenvalue of its position covariance exceeds this [m^2]."""
    min_spawn_score: float = 0.5
    """Detections scoring below this update tracks but never start one."""
    spawn_exclusion_chi2: float = 25.0
    """An unmatched detection within this d^2 of any track is an outlier or a duplicate of it and starts
    no track (0: off). Prevents twin tracks when one noisy hit falls just outside the gate."""
    yaw_alpha: float = 0.3
    size_alpha: float = 0.2
    """Exponential smoothing weights of yaw and length/width (1: take the detection as is)."""
    heading_min_speed_mps: float = 1.0
    """Above this speed (and twice its std) the velocity heading resolves the detector's pi-ambiguity
    in yaw and orients the process noise [m/s]."""
    sensor_noise: tuple[SensorNoise, ...] = DEFAULT_SENSOR_NOISE
    default_floor_m2: float = 0.04
    """Floor for sources not listed in ``sensor_noise`` [m^2]."""

    def floor_m2(self, source: str) -> float:
        return next((s.floor_m2 for s in self.sensor_noise if s.source == source), self.default_floor_m2)


@dataclass
class _TrackState:
    """Mutable per-track filter state (internal)."""

    track_id: int
    x: np.ndarray
    P: np.ndarray
    yaw_rad: float
    length_m: float
    width_m: float
    last_hit_s: float
    hits: deque = field(default_factory=deque)
    confirmed: bool = False
    hit_this_tick: bool = True

    @property
    def speed_mps(self) -> float:
        return float(np.hypot(self.x[2], self.x[3]))


class MultiObjectTracker:
    """``update(detections, ego, stamp)`` once per tick, then ``tracks(lane_map)``."""

    def __init__(self, config: TrackerConfig = TrackerConfig()) -> None:
        self.config = config
        self._tracks: list[_TrackState] = []
        self._next_id = 1
        self._time_s: float | None = None

    @property
    def time_s(self) -> float | None:
        """Time the track states refer to [s] (None before the first update)."""
        return self._time_s

    def reset(self) -> None:
        self._tracks, self._next_id, self._time_s = [], 1, None

    def update(self, detections: Sequence[Detections] | Detections, ego: EgoState,
               stamp: float | None = None) -> None:
        """Fuse one tick: each sensor's batch in stamp order (predict to its stamp, associate,
        correct, spawn), then predict to ``stamp`` (default ``ego.stamp``) and manage track life.

        ``ego`` is the map-frame pose at ``ego.stamp``; batches stamped otherwise use it extrapolated
        with its speed and yaw rate. An empty list or empty batches just predict (sensor dropout).
        """
        stamp = ego.stamp if stamp is None else float(stamp)
        batches = [detections] if isinstance(detections, Detections) else list(detections)
        for track in self._tracks:
            track.hit_this_tick = False
        for batch in sorted(batches, key=lambda b: b.stamp):
            self._predict(batch.stamp)
            if len(batch):
                self._ingest(batch, ego)
        self._predict(stamp)
        self._manage(stamp)

    def tracks(self, lane_map: LaneMap | None = None) -> tuple[Track, ...]:
        """Confirmed and coasting tracks (tentative ones are withheld), placed on ``lane_map`` if given."""
        return tuple(self._output(t, lane_map) for t in self._tracks if t.confirmed)

    def _predict(self, t: float) -> None:
        if self._time_s is None:
            self._time_s = t
        dt = t - self._time_s
        if dt <= 0.0:  # same stamp, or a late batch: fuse it at the current time
            return
        F = np.eye(4)
        F[0, 2] = F[1, 3] = dt
        for track in self._tracks:
            track.x = F @ track.x
            track.P = F @ track.P @ F.T + self._process_noise(track, dt)
        self._time_s = t

    def _process_noise(self, track: _TrackState, dt: float) -> np.ndarray:
        c = self.config
        rot = _rotation(self._heading(track))
        accel_cov = rot @ np.diag([c.accel_along_std_mps2 ** 2, c.accel_across_std_mps2 ** 2]) @ rot.T
        G = np.vstack([0.5 * dt * dt * np.eye(2), dt * np.eye(2)])
        return G @ accel_cov @ G.T

    def _heading(self, track: _TrackState) -> float:
        if self._moving(track):
            return float(np.arctan2(track.x[3], track.x[2]))
        return track.yaw_rad

    def _moving(self, track: _TrackState) -> bool:
        """Speed above the threshold and above twice its own std (a young track's velocity is a guess)."""
        speed_var = 0.5 * float(np.trace(track.P[2:, 2:]))
        return track.speed_mps > self.config.heading_min_speed_mps and track.speed_mps ** 2 > 4.0 * speed_var

    def _ingest(self, batch: Detections, ego: EgoState) -> None:
        z, R, yaw = detections_to_map(batch, _ego_pose_at(ego, batch.stamp), self.config.floor_m2(batch.source))
        if self._tracks:
            d2, log_det = innovation_stats(np.stack([t.x for t in self._tracks]),
                                           np.stack([t.P for t in self._tracks]), z, R)
            cost = d2 + log_det if self.config.log_det_cost else d2
            pairs, unmatched = gated_assignment(cost, d2 <= self.config.gate_chi2)
        else:
            pairs, unmatched = [], list(range(len(z)))
        for ti, di in pairs:
            self._correct(self._tracks[ti], z[di], R[di], yaw[di], batch.size_m[di], batch.stamp)
        for di in unmatched:
            if batch.score[di] >= self.config.min_spawn_score and not self._near_a_track(z[di], R[di]):
                self._spawn(z[di], R[di], yaw[di], batch.size_m[di], batch.stamp)

    def _near_a_track(self, z: np.ndarray, R: np.ndarray) -> bool:
        if not self._tracks:
            return False
        xs = np.stack([t.x for t in self._tracks])
        d2, _ = innovation_stats(xs, np.stack([t.P for t in self._tracks]), z[None], R[None])
        return bool(np.any(d2 < self.config.spawn_exclusion_chi2))

    def _correct(self, track: _TrackState, z: np.ndarray, R: np.ndarray, yaw_rad: float, size_m: np.ndarray,
                 stamp: float) -> None:
        track.x, track.P = kalman_update(track.x, track.P, z, R)
        c = self.config
        ref = self._heading(track)
        if self._moving(track):
            track.yaw_rad = resolve_pi_ambiguity(track.yaw_rad, ref)
        yaw_rad = resolve_pi_ambiguity(yaw_rad, ref)
        track.yaw_rad = wrap_angle(track.yaw_rad + c.yaw_alpha * wrap_angle(yaw_rad - track.yaw_rad))
        track.length_m += c.size_alpha * (float(size_m[0]) - track.length_m)
        track.width_m += c.size_alpha * (float(size_m[1]) - track.width_m)
        track.last_hit_s = max(track.last_hit_s, stamp)
        track.hit_this_tick = True

    def _spawn(self, z: np.ndarray, R: np.ndarray, yaw_rad: float, size_m: np.ndarray, stamp: float) -> None:
        P = np.zeros((4, 4))
        P[:2, :2] = R
        P[2:, 2:] = self.config.init_speed_std_mps ** 2 * np.eye(2)
        x = np.array([z[0], z[1], 0.0, 0.0])
        self._tracks.append(_TrackState(self._next_id, x, P, wrap_angle(yaw_rad), float(size_m[0]),
                                        float(size_m[1]), stamp))
        self._next_id += 1

    def _manage(self, stamp: float) -> None:
        c = self.config
        for track in self._tracks:
            track.hits.append(track.hit_this_tick)
            while len(track.hits) > c.confirm_window:
                track.hits.popleft()
            if not track.confirmed and sum(track.hits) >= c.confirm_hits:
                track.confirmed = True
        self._tracks = [t for t in self._tracks if not self._expired(t, stamp)]

    def _expired(self, track: _TrackState, stamp: float) -> bool:
        c = self.config
        if not track.confirmed:
            return len(track.hits) - sum(track.hits) >= c.tentative_max_misses
        too_old = stamp - track.last_hit_s > c.max_coast_s
        return too_old or float(np.linalg.eigvalsh(track.P[:2, :2])[-1]) > c.max_position_var_m2

    @staticmethod
    def _output(track: _TrackState, lane_map: LaneMap | None) -> Track:
        x, y, vx, vy = (float(v) for v in track.x)
        pos = locate(lane_map, x, y) if lane_map is not None else None
        on_lane = pos is not None and pos.in_lane
        return Track(track.track_id, x, y, vx, vy, track.yaw_rad, track.length_m, track.width_m, track.P.copy(),
                     pos.lane_id if on_lane else None, pos.offset_m if on_lane else 0.0,
                     "confirmed" if track.hit_this_tick else "coasting")


def detections_to_map(batch: Detections, pose: tuple[float, float, float], floor_m2: float
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres (N, 2) [m], noise covariances R (N, 2, 2) [m^2] and yaws (N,) [rad] in the map frame.

    ``pose`` is the ego's (x_m, y_m, yaw_rad) in the map frame; R is the detection covariance rotated
    into the map frame plus ``floor_m2`` on each axis.
    """
    x_m, y_m, yaw_rad = pose
    rot = _rotation(yaw_rad)
    z = batch.center_m[:, :2] @ rot.T + np.array([x_m, y_m])
    R = rot[None] @ batch.covariance_m2 @ rot.T[None] + floor_m2 * np.eye(2)[None]
    return z, R, wrap_angle(batch.yaw_rad + yaw_rad)


def innovation_stats(xs: np.ndarray, Ps: np.ndarray, z: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared Mahalanobis distances d^2 (T, D) and ln det S (T, D) of the innovations of detections
    z (D, 2), R (D, 2, 2) against track states xs (T, 4), Ps (T, 4, 4) (position-only measurement)."""
    v = z[None, :, :] - xs[:, None, :2]
    S = Ps[:, None, :2, :2] + R[None]
    d2 = np.einsum("tdi,tdi->td", v, np.linalg.solve(S, v[..., None])[..., 0])
    return d2, np.linalg.slogdet(S)[1]


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


def kalman_update(x: np.ndarray, P: np.ndarray, z: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position-only Kalman correction (Joseph form, keeps P symmetric positive definite)."""
    S = P[:2, :2] + R
    K = np.linalg.solve(S, P[:2, :]).T
    I_KH = np.eye(4) - K @ _H
    P_new = I_KH @ P @ I_KH.T + K @ R @ K.T
    return x + K @ (z - x[:2]), 0.5 * (P_new + P_new.T)


def resolve_pi_ambiguity(yaw_rad: float, reference_rad: float) -> float:
    """``yaw_rad`` or ``yaw_rad + pi``, whichever is nearer ``reference_rad`` (wrapped to [-pi, pi))."""
    yaw = wrap_angle(yaw_rad)
    return yaw if abs(wrap_angle(yaw - reference_rad)) <= np.pi / 2 else wrap_angle(yaw + np.pi)


def _rotation(yaw_rad: float) -> np.ndarray:
    c, s = np.cos(yaw_rad), np.sin(yaw_rad)
    return np.array([[c, -s], [s, c]])


def _ego_pose_at(ego: EgoState, t: float) -> tuple[float, float, float]:
    """Ego (x_m, y_m, yaw_rad) at time ``t``, extrapolated from ``ego`` with its speed and yaw rate."""
    dt = t - ego.stamp
    mid_yaw = ego.yaw_rad + 0.5 * ego.yaw_rate_radps * dt
    return (ego.x_m + ego.speed_mps * dt * np.cos(mid_yaw), ego.y_m + ego.speed_mps * dt * np.sin(mid_yaw),
            ego.yaw_rad + ego.yaw_rate_radps * dt)
