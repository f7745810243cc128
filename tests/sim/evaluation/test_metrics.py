"""Episode metrics, the nuPlan-style score, aggregation, the table and JSON export."""
import dataclasses
import json
import math

import numpy as np
import pytest

from sim.loop.episode import EpisodeLog
from sim.evaluation.metrics import (
    EpisodeMetrics,
    ScoreThresholds,
    aggregate,
    compute_episode_metrics,
    format_table,
    to_json,
    write_json,
)

DT_S = 0.1


def make_log(speed_mps, *, yaw_rad=None, limit_mps=10.0, duration_s=None, **overrides) -> EpisodeLog:
    """Episode integrating ``speed_mps`` along ``yaw_rad`` (default: straight along +x) at 10 Hz."""
    speed = np.asarray(speed_mps, dtype=float)
    n = len(speed)
    yaw = np.zeros(n) if yaw_rad is None else np.asarray(yaw_rad, dtype=float)
    step_x = np.concatenate([[0.0], speed[:-1] * np.cos(yaw[:-1]) * DT_S])
    step_y = np.concatenate([[0.0], speed[:-1] * np.sin(yaw[:-1]) * DT_S])
    fields = dict(
        scenario="highway", planner="rule", world_model="ground_truth", seed=0, dt_s=DT_S,
        t_s=DT_S * np.arange(n), x_m=np.cumsum(step_x), y_m=np.cumsum(step_y), yaw_rad=yaw,
        speed_mps=speed, min_ttc_s=np.full(n, np.inf), lane_offset_m=np.zeros(n),
        lane_width_m=np.full(n, 4.0), lane_heading_rad=yaw.copy(), on_road=np.ones(n, dtype=bool),
        speed_limit_mps=np.full(n, limit_mps), collided=False, at_fault_collision=False,
        collision_tick=None, end_reason="duration", duration_s=DT_S * (n - 1) if duration_s is None else duration_s,
    )
    fields.update(overrides)
    return EpisodeLog(**fields)


def constant(speed_mps, n=101):
    return np.full(n, float(speed_mps))


def test_constant_speed_at_the_limit_scores_one():
    m = compute_episode_metrics(make_log(constant(10.0)))
    assert m.progress_m == pytest.approx(10.0 * 10.0, abs=1e-6)
    assert m.mean_speed_mps == pytest.approx(10.0)
    assert m.max_abs_lon_jerk_mps3 == pytest.approx(0.0, abs=1e-9)
    assert m.max_abs_lat_accel_mps2 == pytest.approx(0.0, abs=1e-9)
    assert (m.comfort_score, m.ttc_score, m.speed_limit_score, m.progress_score) == (1.0, 1.0, 1.0, 1.0)
    assert m.completed and not m.collided
    assert m.min_ttc_s == math.inf
    assert m.score == pytest.approx(1.0)


def test_at_fault_collision_zeroes_the_score():
    m = compute_episode_metrics(
        make_log(constant(10.0), collided=True, at_fault_collision=True, collision_tick=50, end_reason="collision")
    )
    assert m.at_fault_gate == 0.0 and m.score == 0.0
    assert m.collided and m.at_fault_collision and not m.completed


def test_not_at_fault_collision_keeps_the_score_but_is_not_completed():
    m = compute_episode_metrics(make_log(constant(10.0), collided=True, collision_tick=50))
    assert m.at_fault_gate == 1.0 and m.score == pytest.approx(1.0)
    assert not m.completed


def test_one_off_road_tick_closes_the_drivable_gate():
    on_road = np.ones(101, dtype=bool)
    on_road[40] = False
    m = compute_episode_metrics(make_log(constant(10.0), on_road=on_road))
    assert m.drivable_gate == 0.0 and m.score == 0.0
    assert m.time_off_road_s == pytest.approx(DT_S)


def test_time_outside_lanes_counts_ticks_beyond_half_a_lane_width():
    offset = np.zeros(101)
    offset[10:13] = 2.5  # lane width 4 m: outside
    offset[20] = 1.9  # inside
    m = compute_episode_metrics(make_log(constant(10.0), lane_offset_m=offset))
    assert m.time_outside_lanes_s == pytest.approx(3 * DT_S)
    assert m.drivable_gate == 1.0


def test_overspeed_lowers_the_speed_limit_score_by_the_mean_excess():
    limit = constant(10.0)
    limit[:50] = 9.0  # 1 m/s over on 50 of 101 ticks at a steady 10 m/s
    m = compute_episode_metrics(make_log(constant(10.0), speed_limit_mps=limit))
    expected = 1.0 - (50.0 / 101.0) / 2.23
    assert m.speed_limit_score == pytest.approx(expected)
    assert (m.comfort_score, m.progress_score, m.ttc_score) == (1.0, 1.0, 1.0)
    assert m.score == pytest.approx((5 + 5 + 4 * expected + 2) / 16)


def test_far_overspeed_floors_the_speed_limit_score_at_zero():
    assert compute_episode_metrics(make_log(constant(13.0))).speed_limit_score == 0.0


def test_hard_brake_fails_comfort_and_gentle_brake_passes():
    t = DT_S * np.arange(101)
    hard = compute_episode_metrics(make_log(np.maximum(0.0, 20.0 - 8.0 * t), limit_mps=20.0))
    gentle = compute_episode_metrics(make_log(np.maximum(5.0, 20.0 - 1.5 * t), limit_mps=20.0))
    assert hard.comfort_score == 0.0
    assert hard.max_abs_lon_accel_mps2 == pytest.approx(8.0)
    assert gentle.comfort_score == 1.0
    assert gentle.max_abs_lon_accel_mps2 == pytest.approx(1.5)


def test_smoothing_absorbs_a_single_tick_speed_spike():
    speed = constant(10.0)
    speed[50] += 0.05  # raw jerk 0.05 m/s / 0.01 s^2 = 5 m/s^3 > 4.13
    assert compute_episode_metrics(make_log(speed)).comfort_score == 1.0
    unsmoothed = compute_episode_metrics(make_log(speed), ScoreThresholds(smoothing_window_ticks=1))
    assert unsmoothed.comfort_score == 0.0
    assert unsmoothed.max_abs_lon_jerk_mps3 == pytest.approx(10.0)  # +5 then -10 then +5


def test_jerk_at_the_episode_start_is_not_amplified_by_the_window_edge():
    # A jerk-limited start: acceleration ramps 0 -> 2 m/s^2 at 4 m/s^3, then holds; true jerk <= 4.
    t = DT_S * np.arange(101)
    accel = np.minimum(4.0 * t, 2.0)
    speed = 20.0 + np.concatenate([[0.0], np.cumsum(accel[:-1]) * DT_S]) + 0.001 * (-1) ** np.arange(101)
    m = compute_episode_metrics(make_log(speed, limit_mps=40.0))
    assert 3.0 < m.max_abs_lon_jerk_mps3 <= 4.13


def test_circle_gives_lateral_accel_and_yaw_rate_across_the_yaw_wrap():
    # 10 m/s on a circle at 0.2 rad/s, starting just below +pi so the heading wraps to -pi.
    yaw = np.angle(np.exp(1j * (math.pi - 0.5 + 0.2 * DT_S * np.arange(101))))
    m = compute_episode_metrics(make_log(constant(10.0), yaw_rad=yaw))
    assert m.max_abs_yaw_rate_radps == pytest.approx(0.2)
    assert m.max_abs_lat_accel_mps2 == pytest.approx(2.0)
    assert m.comfort_score == 1.0
    assert m.progress_m == pytest.approx(100.0, rel=1e-3)  # arc length, chords along the lane


def test_progress_gate_trips_below_twenty_percent():
    slow = compute_episode_metrics(make_log(constant(1.9)))  # ratio 0.19
    ok = compute_episode_metrics(make_log(constant(2.1)))  # ratio 0.21
    assert slow.progress_gate == 0.0 and slow.score == 0.0
    assert ok.progress_gate == 1.0 and ok.progress_score == pytest.approx(0.21)


def test_progress_reference_uses_planned_duration_unless_arrived():
    stopped_early = dict(duration_s=20.0)  # 10 s driven of a 20 s scenario
    assert compute_episode_metrics(make_log(constant(10.0), **stopped_early)).progress_score == pytest.approx(0.5)
    arrived = compute_episode_metrics(make_log(constant(10.0), end_reason="arrived", **stopped_early))
    assert arrived.progress_score == pytest.approx(1.0) and arrived.completed


def test_short_time_to_collision_costs_the_ttc_term():
    ttc = np.full(101, np.inf)
    ttc[30] = 0.9
    m = compute_episode_metrics(make_log(constant(10.0), min_ttc_s=ttc))
    assert m.ttc_score == 0.0 and m.min_ttc_s == pytest.approx(0.9)
    assert m.score == pytest.approx(11.0 / 16.0)


def test_off_road_end_is_not_completed():
    assert not compute_episode_metrics(make_log(constant(10.0), end_reason="off_road")).completed


@pytest.mark.parametrize("n", [1, 2, 3])
def test_very_short_episodes_give_finite_metrics(n):
    m = compute_episode_metrics(make_log(constant(10.0, n=n), duration_s=10.0))
    values = [v for v in dataclasses.astuple(m) if isinstance(v, float) and v != m.min_ttc_s]
    assert all(math.isfinite(v) for v in values)
    assert m.max_abs_lon_jerk_mps3 == pytest.approx(0.0, abs=1e-9)
    assert m.max_abs_lon_accel_mps2 == pytest.approx(0.0, abs=1e-9)


def episodes_for_aggregation() -> list[EpisodeMetrics]:
    crash = dict(collided=True, at_fault_collision=True, collision_tick=30, end_reason="collision")
    ttc = np.full(101, np.inf)
    ttc[5] = 2.0
    logs = [
        make_log(constant(10.0), seed=0, min_ttc_s=ttc),
        make_log(constant(10.0), seed=1, **crash),
        make_log(constant(10.0), seed=0, planner="rl"),
        make_log(constant(10.0), seed=2),
        make_log(constant(10.0), seed=3),
    ]
    return [compute_episode_metrics(log) for log in logs]


def test_aggregate_groups_in_first_seen_order_with_rates():
    rule, rl = aggregate(episodes_for_aggregation())
    assert (rule.planner, rl.planner) == ("rule", "rl")
    assert rule.n_episodes == 4 and rl.n_episodes == 1
    assert rule.collision_rate == pytest.approx(0.25)
    assert rule.at_fault_collision_rate == pytest.approx(0.25)
    assert rule.completion_rate == pytest.approx(0.75)
    assert rule.mean_score == pytest.approx(0.75)
    assert rule.min_ttc_s == math.inf  # median of [2, inf, inf, inf]
    assert rl.collision_rate == 0.0 and rl.mean_score == pytest.approx(1.0)


def test_aggregate_min_ttc_is_the_median_of_episode_minima():
    base = episodes_for_aggregation()[0]

    def median_ttc(values):
        return aggregate([dataclasses.replace(base, min_ttc_s=v) for v in values])[0].min_ttc_s

    assert median_ttc([1.0, 3.0]) == pytest.approx(2.0)
    assert median_ttc([1.0, 3.0, math.inf]) == pytest.approx(3.0)
    assert median_ttc([1.0, math.inf]) == math.inf  # never NaN from inf arithmetic


def test_json_export_is_strict_json_and_round_trips(tmp_path):
    episodes = episodes_for_aggregation()
    data = to_json(episodes, aggregate(episodes))
    text = json.dumps(data, allow_nan=False)
    back = json.loads(text)
    assert back["episodes"][3]["min_ttc_s"] is None  # infinite TTC: null, never a string
    assert back["episodes"][0]["min_ttc_s"] == 2.0
    assert back["episodes"][1]["collided"] is True
    assert back["aggregates"][0]["collision_rate"] == 0.25
    assert [type(v) for v in back["episodes"][0].values()] == [type(v) for v in data["episodes"][0].values()]
    path = tmp_path / "out" / "metrics.json"
    write_json(path, to_json(episodes, aggregate(episodes)))
    assert json.loads(path.read_text()) == back


def test_table_has_one_aligned_row_per_group():
    rows = aggregate(episodes_for_aggregation())
    lines = format_table(rows).splitlines()
    assert len(lines) == 2 + len(rows)
    assert lines[0].startswith("scenario") and "collision %" in lines[0] and lines[0].endswith("score")
    assert lines[2].split()[:3] == ["highway", "rule", "ground_truth"]
    assert lines[3].split()[:3] == ["highway", "rl", "ground_truth"]
    assert "25.0" in lines[2].split() and "inf" in lines[2].split()
    score_col = lines[0].index("score") + len("score")
    assert all(len(line) == score_col for line in (lines[0], lines[2], lines[3]))
