"""Driving metrics of closed-loop episodes: per episode, per (scenario, planner, world model), and
a nuPlan-style closed-loop score.

The composite follows nuPlan's public closed-loop score definition:

    score = at_fault_gate * drivable_gate * progress_gate
            * (5 * ttc_score + 5 * progress_score + 4 * speed_limit_score + 2 * comfort_score) / 16

Comfort signals (longitudinal acceleration and jerk, lateral acceleration, yaw rate) are
Savitzky-Golay derivatives (quadratic fits over 5 ticks by default, 0.5 s at 10 Hz) of the speed
and unwrapped yaw, as nuPlan's comfort metrics use Savitzky-Golay fits, so that a single-tick
numerical spike does not decide the comfort score; the episode's ends use the derivative of the end
window's fit. nuPlan's windows are wider (its devkit smooths the recorded acceleration over 8
samples and takes jerk from a fit over 15): the 5-tick windows here are the stricter reading, and a
jerk ramp that starts at an episode's first or last tick reads up to 18 % high. The reported maxima
use the same signals as the score.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sim.loop.episode import EpisodeLog

_COMPLETED_END_REASONS = frozenset({"duration", "arrived"})
_NO_DIRECTION = np.finfo(float).tiny
"""Lane direction norm of a step between opposite lane headings (ux = uy = 0 there): that step adds 0 progress."""


@dataclass(frozen=True)
class ScoreThresholds:
    """Thresholds of the closed-loop score (defaults: nuPlan's published values)."""

    min_ttc_s: float = 0.95
    max_overspeed_mps: float = 2.23
    min_progress_ratio: float = 0.2
    min_lon_accel_mps2: float = -4.05
    max_lon_accel_mps2: float = 2.40
    max_abs_lat_accel_mps2: float = 4.89
    max_abs_lon_jerk_mps3: float = 4.13
    max_abs_yaw_rate_radps: float = 0.95
    smoothing_window_ticks: int = 5
    """Width of the Savitzky-Golay window of the comfort derivatives (odd; 1 disables smoothing)."""


@dataclass(frozen=True)
class EpisodeMetrics:
    """Metrics of one episode. Scores and gates lie in [0, 1]; ``min_ttc_s`` may be ``inf``."""

    scenario: str
    planner: str
    world_model: str
    seed: int
    collided: bool
    at_fault_collision: bool
    completed: bool
    progress_m: float
    progress_ratio: float
    """progress_m over the reference distance (mean speed limit times duration)."""
    mean_speed_mps: float
    min_ttc_s: float
    max_abs_lon_jerk_mps3: float
    max_abs_lon_accel_mps2: float
    max_abs_lat_accel_mps2: float
    max_abs_yaw_rate_radps: float
    time_off_road_s: float
    time_outside_lanes_s: float
    ttc_score: float
    progress_score: float
    speed_limit_score: float
    comfort_score: float
    drivable_gate: float
    at_fault_gate: float
    progress_gate: float
    score: float


@dataclass(frozen=True)
class AggregateMetrics:
    """Metrics over the episodes of one (scenario, planner, world model). Rates lie in [0, 1]."""

    scenario: str
    planner: str
    world_model: str
    n_episodes: int
    collision_rate: float
    at_fault_collision_rate: float
    completion_rate: float
    mean_progress_m: float
    mean_speed_mps: float
    min_ttc_s: float
    """Median over episodes of each episode's minimum TTC [s] (``inf`` counts as a value)."""
    mean_max_abs_lon_jerk_mps3: float
    mean_max_abs_lat_accel_mps2: float
    mean_time_off_road_s: float
    mean_time_outside_lanes_s: float
    mean_score: float


@dataclass(frozen=True)
class _ComfortSignals:
    """Smoothed comfort signals, one value per tick (finite differences when smoothing is off)."""

    lon_accel_mps2: np.ndarray
    lon_jerk_mps3: np.ndarray
    lat_accel_mps2: np.ndarray
    yaw_rate_radps: np.ndarray


def _savgol(x: np.ndarray, window: int, deriv: int, dt_s: float) -> np.ndarray:
    """Savitzky-Golay estimate (quadratic fit over ``window`` samples) of ``x`` or its derivative.

    The first and last samples take the derivative of the first and last full window's fit
    (``mode='interp'``), so the episode's ends are no noisier than its middle: a shrinking window
    there would difference single noisy samples. Windows shorter than 3 samples (or a window of 1)
    fall back to plain finite differences. (scipy.signal is imported here: it takes over a second,
    which every command that scores no episode would pay.)
    """
    from scipy.signal import savgol_filter

    window = min(window, len(x) - (1 - len(x) % 2))
    if window < 3:
        return np.diff(x, n=deriv) / dt_s ** deriv  # deriv 0: x itself
    return savgol_filter(
        x, window, polyorder=2, deriv=deriv, delta=dt_s,
        mode="interp",  # pragma: no mutate (scipy's default mode as well; explicit for the docstring)
    )


def comfort_signals(speed_mps: np.ndarray, yaw_rad: np.ndarray, dt_s: float, window: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Longitudinal acceleration, longitudinal jerk, lateral acceleration and yaw rate of a speed and
    heading series sampled every ``dt_s``, as the comfort score sees them."""
    speed = np.asarray(speed_mps, dtype=float)  # pragma: no mutate (equivalent: savgol_filter computes in float anyway)
    yaw = np.unwrap(np.asarray(yaw_rad, dtype=float))  # pragma: no mutate (equivalent: np.unwrap returns floats anyway)
    accel = _savgol(speed, window, 1, dt_s)
    yaw_rate = _savgol(yaw, window, 1, dt_s)
    jerk = _savgol(accel, window, 1, dt_s)
    smooth_speed = _savgol(speed, window, 0, dt_s)
    return accel, jerk, smooth_speed[: len(yaw_rate)] * yaw_rate, yaw_rate


def _comfort_signals(log: EpisodeLog, window: int) -> _ComfortSignals:
    return _ComfortSignals(*comfort_signals(log.speed_mps, log.yaw_rad, log.dt_s, window))


def _abs_max(x: np.ndarray) -> float:
    return float(np.max(np.abs(x))) if len(x) else 0.0


def _comfort_score(sig: _ComfortSignals, th: ScoreThresholds) -> float:
    accel = sig.lon_accel_mps2
    ok = (
        (len(accel) == 0 or (accel.min() >= th.min_lon_accel_mps2 and accel.max() <= th.max_lon_accel_mps2))
        and _abs_max(sig.lat_accel_mps2) <= th.max_abs_lat_accel_mps2
        and _abs_max(sig.lon_jerk_mps3) <= th.max_abs_lon_jerk_mps3
        and _abs_max(sig.yaw_rate_radps) <= th.max_abs_yaw_rate_radps
    )
    return 1.0 if ok else 0.0


def _progress_m(log: EpisodeLog) -> float:
    """Sum of per-tick displacements projected on the lane direction (mean of both ends) [m]."""
    heading = np.asarray(log.lane_heading_rad, dtype=float)  # pragma: no mutate (equivalent: cos and sin give floats)
    ux, uy = np.cos(heading[:-1]) + np.cos(heading[1:]), np.sin(heading[:-1]) + np.sin(heading[1:])
    norm = np.maximum(np.hypot(ux, uy), _NO_DIRECTION)
    return float(np.sum((np.diff(log.x_m) * ux + np.diff(log.y_m) * uy) / norm))


def _progress_ratio(log: EpisodeLog, progress_m: float) -> float:
    """Progress over mean speed limit times duration; 1.0 when that reference is not positive."""
    duration_s = float(log.t_s[-1] - log.t_s[0]) if log.end_reason == "arrived" else log.duration_s
    reference_m = float(np.mean(log.speed_limit_mps)) * duration_s
    return progress_m / reference_m if reference_m > 0.0 else 1.0


def _speed_limit_score(log: EpisodeLog, th: ScoreThresholds) -> float:
    overspeed = np.maximum(0.0, np.asarray(log.speed_mps) - np.asarray(log.speed_limit_mps))
    return float(max(0.0, 1.0 - np.mean(overspeed) / th.max_overspeed_mps))


def _composite(scores: dict[str, float], gates: dict[str, float]) -> float:
    weighted = (
        5.0 * scores["ttc_score"] + 5.0 * scores["progress_score"]
        + 4.0 * scores["speed_limit_score"] + 2.0 * scores["comfort_score"]
    )
    return float(np.prod(list(gates.values())) * weighted / 16.0)


def compute_episode_metrics(log: EpisodeLog, thresholds: ScoreThresholds = ScoreThresholds()) -> EpisodeMetrics:
    """Metrics and nuPlan-style score of one episode (needs at least one tick)."""
    if len(log.t_s) == 0:
        raise ValueError("episode log has no ticks")
    th, sig = thresholds, _comfort_signals(log, thresholds.smoothing_window_ticks)
    progress_m = _progress_m(log)
    ratio = _progress_ratio(log, progress_m)
    on_road = np.asarray(log.on_road, dtype=bool)
    gates = {
        "drivable_gate": 1.0 if on_road.all() else 0.0,
        "at_fault_gate": 0.0 if log.at_fault_collision else 1.0,
        "progress_gate": 1.0 if ratio >= th.min_progress_ratio else 0.0,
    }
    scores = {
        "ttc_score": 1.0 if bool(np.all(np.asarray(log.min_ttc_s) > th.min_ttc_s)) else 0.0,
        "progress_score": float(np.clip(ratio, 0.0, 1.0)),
        "speed_limit_score": _speed_limit_score(log, th),
        "comfort_score": _comfort_score(sig, th),
    }
    outside = np.asarray(log.lane_offset_m) > 0.5 * np.asarray(log.lane_width_m)
    return EpisodeMetrics(
        scenario=log.scenario, planner=log.planner, world_model=log.world_model, seed=int(log.seed),
        collided=bool(log.collided), at_fault_collision=bool(log.at_fault_collision),
        completed=bool(not log.collided and log.end_reason in _COMPLETED_END_REASONS),
        progress_m=progress_m, progress_ratio=float(ratio),
        mean_speed_mps=float(np.mean(log.speed_mps)), min_ttc_s=float(np.min(log.min_ttc_s)),
        max_abs_lon_jerk_mps3=_abs_max(sig.lon_jerk_mps3), max_abs_lon_accel_mps2=_abs_max(sig.lon_accel_mps2),
        max_abs_lat_accel_mps2=_abs_max(sig.lat_accel_mps2), max_abs_yaw_rate_radps=_abs_max(sig.yaw_rate_radps),
        time_off_road_s=float(np.count_nonzero(~on_road) * log.dt_s),
        time_outside_lanes_s=float(np.count_nonzero(outside) * log.dt_s),
        **scores, **gates,
        score=_composite(scores, gates),
    )


def _median_with_inf(values: Sequence[float]) -> float:
    """Median where ``inf`` is an ordinary (largest) value and NaNs are ignored; never NaN unless empty."""
    kept = [x for x in values if not np.isnan(x)]
    v = np.sort(np.asarray(kept, dtype=float))  # pragma: no mutate (equivalent: the values are floats already)
    if len(v) == 0:
        return np.nan
    lo, hi = v[(len(v) - 1) // 2], v[len(v) // 2]
    return float(hi) if np.isinf(hi) else float(0.5 * (lo + hi))


def _aggregate_group(group: Sequence[EpisodeMetrics]) -> AggregateMetrics:
    def mean(name: str) -> float:
        return float(np.mean([float(getattr(e, name)) for e in group]))

    first = group[0]
    return AggregateMetrics(
        scenario=first.scenario, planner=first.planner, world_model=first.world_model, n_episodes=len(group),
        collision_rate=mean("collided"), at_fault_collision_rate=mean("at_fault_collision"),
        completion_rate=mean("completed"), mean_progress_m=mean("progress_m"), mean_speed_mps=mean("mean_speed_mps"),
        min_ttc_s=_median_with_inf([e.min_ttc_s for e in group]),
        mean_max_abs_lon_jerk_mps3=mean("max_abs_lon_jerk_mps3"),
        mean_max_abs_lat_accel_mps2=mean("max_abs_lat_accel_mps2"),
        mean_time_off_road_s=mean("time_off_road_s"), mean_time_outside_lanes_s=mean("time_outside_lanes_s"),
        mean_score=mean("score"),
    )


def _grouped(episodes: Sequence[EpisodeMetrics]) -> dict[tuple[str, str, str], list[EpisodeMetrics]]:
    """Episodes by (scenario, planner, world model), in the order the groups first appear."""
    groups: dict[tuple[str, str, str], list[EpisodeMetrics]] = {}
    for e in episodes:
        groups.setdefault((e.scenario, e.planner, e.world_model), []).append(e)
    return groups


def aggregate(episodes: Sequence[EpisodeMetrics]) -> list[AggregateMetrics]:
    """One row per (scenario, planner, world model), in the order the groups first appear."""
    return [_aggregate_group(g) for g in _grouped(episodes).values()]


_TABLE_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("scenario", lambda r: r.scenario),
    ("planner", lambda r: r.planner),
    ("world model", lambda r: r.world_model),
    ("episodes", lambda r: f"{r.n_episodes:d}"),
    ("collision %", lambda r: f"{100.0 * r.collision_rate:.1f}"),
    ("completed %", lambda r: f"{100.0 * r.completion_rate:.1f}"),
    ("mean speed m/s", lambda r: f"{r.mean_speed_mps:.2f}"),
    ("progress m", lambda r: f"{r.mean_progress_m:.1f}"),
    ("min TTC s", lambda r: f"{r.min_ttc_s:.2f}"),
    ("max |jerk| m/s^3", lambda r: f"{r.mean_max_abs_lon_jerk_mps3:.2f}"),
    ("max |lat acc| m/s^2", lambda r: f"{r.mean_max_abs_lat_accel_mps2:.2f}"),
    ("off-road s", lambda r: f"{r.mean_time_off_road_s:.1f}"),
    ("score", lambda r: f"{r.mean_score:.3f}"),
)
_TEXT_COLUMNS = 3


def format_table(rows: Sequence[AggregateMetrics]) -> str:
    """Fixed-width plain-text table: text columns left-aligned, numbers right-aligned.

    The jerk and lateral-acceleration columns are means over episodes of each episode's maximum.
    """
    return _fixed_width([name for name, _ in _TABLE_COLUMNS], [[fmt(r) for _, fmt in _TABLE_COLUMNS] for r in rows])


def _fixed_width(header: Sequence[str], cells: Sequence[Sequence[str]]) -> str:
    """Header, rule and rows; the first ``_TEXT_COLUMNS`` left-aligned, the numbers right-aligned."""
    widths = [max(len(c) for c in col) for col in zip(header, *cells)]

    def line(values: Sequence[str]) -> str:
        parts = [v.ljust(w) if i < _TEXT_COLUMNS else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths))]
        return "  ".join(parts)

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(c) for c in cells)])


_TERMS = (("ttc", "ttc_score"), ("progress", "progress_score"), ("speed limit", "speed_limit_score"),
          ("comfort", "comfort_score"))
_GATES = ("at_fault_gate", "drivable_gate", "progress_gate")


def format_score_terms(episodes: Sequence[EpisodeMetrics]) -> str:
    """Where each group's score comes from: the mean of each weighted term and the share of episodes
    that pass all three gates, per (scenario, planner, world model) in first-appearance order."""
    header = ["scenario", "planner", "world model", *(name for name, _ in _TERMS), "gates passed %", "score"]
    cells = [[*key, *(f"{np.mean([getattr(e, f) for e in g]):.3f}" for _, f in _TERMS),
              f"{100.0 * np.mean([all(getattr(e, k) == 1.0 for k in _GATES) for e in g]):.1f}",
              f"{np.mean([e.score for e in g]):.3f}"] for key, g in _grouped(episodes).items()]
    title = "score terms (means; score = gates x (5 ttc + 5 progress + 4 speed limit + 2 comfort) / 16)"
    return f"{title}\n{_fixed_width(header, cells)}"


def jsonable(value: Any) -> Any:
    """Python scalars for numpy values; None (JSON null) for infinities and NaN, so the file is strict
    JSON with numbers only (a null ``min_ttc_s`` is an infinite TTC: never on a collision course).
    Mappings and sequences are converted recursively."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if np.isfinite(v) else None
    return value


def _record(obj: Any) -> dict[str, Any]:
    return {f.name: jsonable(getattr(obj, f.name)) for f in fields(obj)}


def to_json(episodes: Sequence[EpisodeMetrics], aggregates: Sequence[AggregateMetrics]) -> dict[str, Any]:
    """``{"episodes": [...], "aggregates": [...]}``, serialisable with ``json.dumps(allow_nan=False)``."""
    return {"episodes": [_record(e) for e in episodes], "aggregates": [_record(a) for a in aggregates]}


def write_json(path: str | Path, payload: Any) -> None:
    """Write ``jsonable(payload)`` as strict JSON to ``path`` (parent folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        jsonable(payload), indent=2,
        allow_nan=False,  # pragma: no mutate (a guard only: jsonable has made non-finite values null)
    )
    path.write_text(text + "\n")
