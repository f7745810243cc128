"""Driving metrics at their edges: the smoothing window on short episodes, thresholds met exactly,
degenerate progress references, aggregation corner cases, and the exact table and JSON layout."""
import dataclasses
import math

import numpy as np
import pytest

from sim.evaluation.metrics import (
    AggregateMetrics,
    ScoreThresholds,
    aggregate,
    comfort_signals,
    compute_episode_metrics,
    format_score_terms,
    format_table,
    write_json,
)
from sim.loop.episode import EpisodeLog


def _log(speed_mps, *, dt=0.1, yaw=None, t0=0.0, limit=10.0, duration_s=None, **overrides) -> EpisodeLog:
    """Episode integrating ``speed_mps`` along ``yaw`` (default straight along +x, the lane's heading)."""
    speed = np.asarray(speed_mps, dtype=float)
    n = len(speed)
    yaw = np.zeros(n) if yaw is None else np.asarray(yaw, dtype=float)
    x = np.concatenate([[0.0], np.cumsum(speed[:-1] * np.cos(yaw[:-1]) * dt)])
    y = np.concatenate([[0.0], np.cumsum(speed[:-1] * np.sin(yaw[:-1]) * dt)])
    fields = dict(
        scenario="highway", planner="rule", world_model="ground_truth", seed=0, dt_s=dt, t_s=t0 + dt * np.arange(n),
        x_m=x, y_m=y, yaw_rad=yaw, speed_mps=speed, min_ttc_s=np.full(n, np.inf), lane_offset_m=np.zeros(n),
        lane_width_m=np.full(n, 4.0), lane_heading_rad=yaw.copy(), on_road=np.ones(n, bool),
        speed_limit_mps=np.full(n, limit), collided=False, at_fault_collision=False, collision_tick=None,
        end_reason="duration", duration_s=dt * (n - 1) if duration_s is None else duration_s)
    fields.update(overrides)
    return EpisodeLog(**fields)


def _ramp(accel_mps2, v0=20.0, n=51, dt=0.1):
    return v0 + accel_mps2 * dt * np.arange(n)


def _circle(n=51, rate=0.2, dt=0.1):
    return dict(yaw=rate * dt * np.arange(n))


# --- the smoothing window ---------------------------------------------------------------------------

def test_a_five_tick_episode_is_fitted_by_one_quadratic_over_all_ticks():
    t = np.arange(5.0)
    speed = np.array([0.0, 0.0, 0.0, 0.0, 1.0])
    accel = comfort_signals(speed, np.zeros(5), 1.0, 5)[0]
    fit = np.polyfit(t, speed, 2)
    assert accel == pytest.approx(np.polyval(np.polyder(fit), t))


def test_a_three_tick_episode_is_fitted_by_the_parabola_through_its_samples():
    accel = comfort_signals([0.0, 1.0, 4.0], np.zeros(3), 1.0, 5)[0]       # speed t^2
    assert accel == pytest.approx([0.0, 2.0, 4.0])
    accel = comfort_signals([0.0, 1.0, 4.0, 9.0, 16.0], np.zeros(5), 1.0, 3)[0]
    assert accel == pytest.approx([0.0, 2.0, 4.0, 6.0, 8.0])


def test_without_smoothing_the_signals_are_finite_differences():
    accel, jerk, lat, yaw_rate = comfort_signals([10.0, 10.5, 11.0, 11.5], [0.0, 0.1, 0.2, 0.3], 0.5, 1)
    assert accel == pytest.approx([1.0, 1.0, 1.0]) and jerk == pytest.approx([0.0, 0.0])
    assert yaw_rate == pytest.approx([0.2, 0.2, 0.2])
    assert lat == pytest.approx([2.0, 2.1, 2.2])       # the speed at the start of each step times the yaw rate


# --- comfort thresholds -----------------------------------------------------------------------------

@pytest.mark.parametrize("accel", [-5.0, 3.0])
def test_steady_braking_or_accelerating_beyond_its_limit_fails_comfort_on_its_own(accel):
    m = compute_episode_metrics(_log(_ramp(accel), limit=40.0))
    assert m.max_abs_lon_accel_mps2 == pytest.approx(abs(accel))
    assert m.max_abs_lon_jerk_mps3 < 1e-6 and m.max_abs_lat_accel_mps2 < 1e-6
    assert m.comfort_score == 0.0


@pytest.mark.parametrize("field, log, measured", [
    ("min_lon_accel_mps2", _log(_ramp(-3.0), limit=40.0), lambda m: -m.max_abs_lon_accel_mps2),
    ("max_lon_accel_mps2", _log(_ramp(2.0), limit=40.0), lambda m: m.max_abs_lon_accel_mps2),
    ("max_abs_lat_accel_mps2", _log(np.full(51, 10.0), **_circle()), lambda m: m.max_abs_lat_accel_mps2),
    ("max_abs_yaw_rate_radps", _log(np.full(51, 10.0), **_circle()), lambda m: m.max_abs_yaw_rate_radps),
    ("max_abs_lon_jerk_mps3", _log(10.0 + 0.5 * (0.1 * np.arange(11)) ** 3, limit=40.0),
     lambda m: m.max_abs_lon_jerk_mps3),
])
def test_a_comfort_signal_exactly_at_its_limit_passes(field, log, measured):
    limit = measured(compute_episode_metrics(log))
    assert compute_episode_metrics(log, ScoreThresholds(**{field: limit})).comfort_score == 1.0
    tighter = np.nextafter(limit, 0.0 if limit > 0 else 1.0)
    assert compute_episode_metrics(log, ScoreThresholds(**{field: tighter})).comfort_score == 0.0


# --- progress -------------------------------------------------------------------------------------

def test_a_lane_heading_reversal_adds_no_progress_for_that_step():
    back = 0.3 - np.pi     # cos and sin of 0.3 and 0.3 - pi cancel exactly: no lane direction
    log = _log([1.0, 2.0, 2.0], dt=1.0, lane_heading_rad=np.array([0.3, back, back]),
               x_m=np.array([0.0, 1.0, 1.0 + 2.0 * np.cos(back)]), y_m=np.array([0.0, 0.0, 2.0 * np.sin(back)]))
    assert compute_episode_metrics(log).progress_m == pytest.approx(2.0)


def test_driving_backwards_is_negative_progress_and_scores_zero():
    log = _log(np.full(101, 5.0), yaw=np.full(101, np.pi), lane_heading_rad=np.zeros(101))
    m = compute_episode_metrics(log)
    assert m.progress_m == pytest.approx(-50.0) and m.progress_ratio == pytest.approx(-0.5)
    assert (m.progress_score, m.progress_gate, m.score) == (0.0, 0.0, 0.0)


def test_an_arrived_episode_is_measured_over_the_time_it_drove():
    m = compute_episode_metrics(_log(np.full(101, 10.0), t0=2.0, limit=20.0, end_reason="arrived", duration_s=30.0))
    assert m.progress_ratio == pytest.approx(100.0 / (20.0 * 10.0))
    assert m.progress_score == pytest.approx(0.5) and m.completed


@pytest.mark.parametrize("log, ratio", [
    (_log(np.full(11, 1.0), limit=0.0), 1.0),                            # no speed limit: no reference
    (_log(np.full(11, 1.0), duration_s=0.0, end_reason="off_road"), 1.0),  # no time: no reference
    (_log([1.0, 1.0], limit=5.0), 0.2),                                  # 0.1 m of a 0.5 m reference
])
def test_progress_ratio_against_a_degenerate_or_tiny_reference(log, ratio):
    assert compute_episode_metrics(log).progress_ratio == pytest.approx(ratio)


def test_the_progress_gate_and_the_ttc_limit():
    log = _log(np.full(101, 3.0), min_ttc_s=np.r_[np.full(100, np.inf), 0.95], seed=np.int64(7))
    m = compute_episode_metrics(log)
    assert m.seed == 7 and m.ttc_score == 0.0          # a TTC must exceed 0.95 s, not equal it
    assert compute_episode_metrics(log, ScoreThresholds(min_progress_ratio=m.progress_ratio)).progress_gate == 1.0
    above = np.nextafter(m.progress_ratio, 1.0)
    assert compute_episode_metrics(log, ScoreThresholds(min_progress_ratio=above)).progress_gate == 0.0


# --- lanes, road, errors ----------------------------------------------------------------------------

def test_on_road_flags_may_be_numbers_and_half_a_lane_out_is_still_inside():
    on_road = np.ones(11, dtype=int)
    on_road[[3, 4]] = 0
    offset = np.zeros(11)
    offset[5], offset[6] = 2.0, 2.01          # lane width 4 m
    m = compute_episode_metrics(_log(np.full(11, 10.0), on_road=on_road, lane_offset_m=offset))
    assert m.time_off_road_s == pytest.approx(0.2) and m.drivable_gate == 0.0
    assert m.time_outside_lanes_s == pytest.approx(0.1)


def test_an_episode_without_ticks_is_refused():
    with pytest.raises(ValueError, match="^episode log has no ticks$"):
        compute_episode_metrics(_log(np.zeros(0)))


# --- aggregation ----------------------------------------------------------------------------------

def _episode(min_ttc_s=math.inf, outside_s=0.0):
    m = compute_episode_metrics(_log(np.full(11, 10.0)))
    return dataclasses.replace(m, min_ttc_s=min_ttc_s, time_outside_lanes_s=outside_s)


@pytest.mark.parametrize("ttcs, median", [
    ([3.0], 3.0), ([math.nan, 2.0], 2.0), ([math.nan], math.nan), ([-math.inf, math.inf], math.inf)])
def test_median_ttc_ignores_nan_and_is_never_nan_unless_nothing_is_left(ttcs, median):
    (row,) = aggregate([_episode(min_ttc_s=t) for t in ttcs])
    assert row.min_ttc_s == median or (math.isnan(median) and math.isnan(row.min_ttc_s))


def test_time_outside_lanes_is_averaged_over_episodes():
    (row,) = aggregate([_episode(outside_s=0.3), _episode(outside_s=0.1)])
    assert row.mean_time_outside_lanes_s == pytest.approx(0.2)


# --- table and JSON -------------------------------------------------------------------------------

def _row(scenario, planner, world_model, n, score) -> AggregateMetrics:
    return AggregateMetrics(scenario, planner, world_model, n, 0.25, 0.0, 0.5, 123.45, 9.876, 2.5, 1.25, 0.5,
                            0.0, 0.0, score)


def test_table_text_columns_left_and_numbers_right_aligned():
    table = format_table([_row("highway", "rule", "ground_truth", 12, 0.75), _row("merge", "rl", "perception", 3, 1.0)])
    assert table.splitlines() == [
        "scenario  planner  world model   episodes  collision %  completed %  mean speed m/s  progress m  min TTC s"
        "  max |jerk| m/s^3  max |lat acc| m/s^2  off-road s  score",
        "--------  -------  ------------  --------  -----------  -----------  --------------  ----------  ---------"
        "  ----------------  -------------------  ----------  -----",
        "highway   rule     ground_truth        12         25.0         50.0            9.88       123.5       2.50"
        "              1.25                 0.50         0.0  0.750",
        "merge     rl       perception           3         25.0         50.0            9.88       123.5       2.50"
        "              1.25                 0.50         0.0  1.000",
    ]


def test_score_terms_table_gives_each_groups_term_means_and_gate_share():
    fast = _episode()
    slow = dataclasses.replace(fast, ttc_score=0.0, progress_score=0.5, comfort_score=0.0, at_fault_gate=0.0, score=0.0)
    other = dataclasses.replace(fast, scenario="merge", speed_limit_score=0.25, score=0.8125)
    lines = format_score_terms([fast, slow, other]).splitlines()
    assert lines[0].startswith("score terms")
    assert lines[1].split() == ["scenario", "planner", "world", "model", "ttc", "progress", "speed", "limit", "comfort",
                                "gates", "passed", "%", "score"]
    assert lines[3].split() == ["highway", "rule", "ground_truth", "0.500", "0.750", "1.000", "0.500", "50.0",
                                f"{fast.score / 2:.3f}"]
    assert lines[4].split() == ["merge", "rule", "ground_truth", "1.000", "1.000", "0.250", "1.000", "100.0", "0.812"]


def test_json_file_layout(tmp_path):
    path = tmp_path / "a" / "b" / "metrics.json"
    write_json(path, {"ttc": [1.5, math.inf]})
    write_json(path, {"ttc": [1.5, math.inf], "n": np.int64(2)})     # again, into the folders now there
    assert path.read_text() == '{\n  "ttc": [\n    1.5,\n    null\n  ],\n  "n": 2\n}\n'
