"""The scorer's terms on hand-built rollouts: time-to-collision, comfort, progress, and the total.

Rollout states are (B, K+1, 4): x, y, yaw, speed. Expected values are worked out in the comments.
"""
import math

import numpy as np
import pytest

from planning.scoring import Rollouts, ScoringParams, comfortable, score, ttc_violations

P = ScoringParams()
W = P.w_ttc + P.w_progress + P.w_comfort + P.w_lane_keep + P.w_route      # 14.1


def _rollouts(states, dt, accel=None, offroad=None) -> Rollouts:
    states = np.asarray(states, dtype=float)
    b, n = states.shape[:2]
    accel = np.diff(states[..., 3], axis=1) / dt if accel is None else np.asarray(accel, float)
    offroad = np.full((b, n), -1.0) if offroad is None else np.asarray(offroad, float)
    return Rollouts(states, accel, offroad, np.zeros(b, bool), np.ones(b, bool), dt)


def _line(x0, y0, yaw, speeds, dt):
    """States (K+1, 4) along ``yaw`` from (x0, y0) at the given speeds (distance = speed * dt per step)."""
    s = np.concatenate([[0.0], np.cumsum(np.asarray(speeds[:-1], float) * dt)])
    return np.stack([x0 + s * math.cos(yaw), y0 + s * math.sin(yaw), np.full(len(s), yaw), speeds], axis=1)


def _still(n, *rows):
    return np.array([[row] * n for row in rows], dtype=float)


BRAKING = _line(0.0, 0.0, 0.0, [10.0, 0.0, 0.0], 0.5)      # at 0 m doing 10 m/s, then standing at 5 m


@pytest.mark.parametrize("x_car, horizon_s, violated", [
    (12.0, 1.0, True),    # from 0 m at 10 m/s, 1 s on: front at 12.5 m, past the car's rear (9.5 m)
    (12.0, 0.5, False),   # half a second on: front at 7.5 m
    (16.0, 1.0, False),   # rear at 13.5 m: never reached
])
def test_ttc_extrapolates_each_state_at_constant_speed_up_to_the_horizon(x_car, horizon_s, violated):
    r = _rollouts([BRAKING], 0.5)
    pred = _still(3, [x_car, 0.0, 0.0, 0.0, 0.0, 5.0, 2.0])
    assert ttc_violations(r, pred, 5.0, 2.0, ScoringParams(ttc_horizon_s=horizon_s)).tolist() == [violated]


def test_ttc_counts_a_track_seen_only_at_the_first_step_ahead():
    # The car is in the way at t = 0.5 s only (elsewhere it is 100 m to the side): state 0, half a
    # second on (front at 7.5 m), meets it; no later pairing does.
    pred = _still(3, [9.0, 100.0, 0.0, 0.0, 0.0, 5.0, 2.0])
    pred[0, 1, 1] = 0.0
    assert ttc_violations(_rollouts([BRAKING], 0.5), pred, 5.0, 2.0, P).tolist() == [True]


def test_ttc_follows_the_rollout_heading_away_from_the_origin():
    # 10 m/s along 60 degrees from (100, 50); a car stopped 12 m down that line is reached within 1 s
    # (front at 12.5 m after 10 m); one 0.5 m clear of the path's side, or 16 m down it, is not.
    yaw = math.pi / 3
    r = _rollouts([_line(100.0, 50.0, yaw, [10.0] * 3, 0.5)], 0.5)
    c, s = math.cos(yaw), math.sin(yaw)

    def car(along, left):
        return _still(3, [100.0 + along * c - left * s, 50.0 + along * s + left * c, 0.0, 0.0, yaw, 5.0, 2.0])

    assert ttc_violations(r, car(12.0, 0.0), 5.0, 2.0, P).tolist() == [True]
    assert ttc_violations(r, car(12.0, 2.5), 5.0, 2.0, P).tolist() == [False]
    assert ttc_violations(r, car(16.0, 0.0), 5.0, 2.0, P).tolist() == [False]


def test_ttc_with_no_tracks_or_a_horizon_past_the_rollout_is_never_violated():
    r = _rollouts([BRAKING], 0.5)
    assert ttc_violations(r, np.zeros((0, 3, 7)), 5.0, 2.0, P).tolist() == [False]
    pred = _still(3, [16.0, 0.0, 0.0, 0.0, 0.0, 5.0, 2.0])
    assert ttc_violations(r, pred, 5.0, 2.0, ScoringParams(ttc_horizon_s=3.0)).tolist() == [False]


def _comfort_rollouts(accels, dt=0.25):
    """Straight rollouts at heading 0 and 10 m/s with the given accelerations (speeds kept, so only
    the longitudinal bounds are exercised)."""
    accels = np.asarray(accels, float)
    b, k = accels.shape
    states = np.zeros((b, k + 1, 4))
    states[..., 3] = 10.0
    return _rollouts(states, dt, accel=accels)


def test_comfort_bounds_on_acceleration_and_jerk_are_inclusive():
    j = P.comfort_max_jerk_mps3 * 0.25                     # largest change of acceleration in one step
    accels = [[2.4] * 4, [-4.05] * 4, [2.5] * 4, [-4.5] * 4, [0.0, j, 2 * j, 2 * j], [0.0, 1.2, 2.4, 2.4]]
    assert comfortable(_comfort_rollouts(accels), P).tolist() == [True, True, False, False, True, False]


def _turning(speeds, yaws, dt=0.25):
    speeds = np.asarray(speeds, float)
    states = np.stack([np.zeros(len(speeds)), np.zeros(len(speeds)), yaws, speeds], axis=1)
    return states


def test_comfort_bounds_the_lateral_acceleration_of_a_turn():
    # Yaw rate from two steps: 1 rad/s at 4.89 m/s is exactly the 4.89 m/s^2 bound; 10 m/s turning
    # at 1.2 times the bound is not comfortable; speeding up straight at 1 rad heading is.
    at_bound = _turning([4.89] * 5, np.arange(5) * 0.25)
    too_fast = _turning([10.0] * 5, np.arange(5) * 0.25 * 1.2 * 0.489)
    straight = _turning(2.4 * 0.25 * np.arange(6), np.ones(6))
    r = _rollouts([at_bound, too_fast], 0.25)
    assert comfortable(r, P).tolist() == [True, False]
    assert comfortable(_rollouts([straight], 0.25), P).tolist() == [True]


def test_comfort_follows_a_gentle_turn_across_the_heading_wrap():
    yaw = (3.0 + 0.05 * np.arange(6) + math.pi) % (2 * math.pi) - math.pi   # 3.0 ... 3.25 rad, wrapped
    assert comfortable(_rollouts([_turning([10.0] * 6, yaw)], 0.25), P).tolist() == [True]


def test_the_total_is_the_weighted_average_of_the_terms_gated_by_road_and_collision():
    # From (100, 50) along +x, 0.5 s steps: 20 m at 10 m/s; 10 m braking hard (uncomfortable) onto a
    # lane not preferred; 20 m off the route with 0.6 m beyond the road (tolerated); 20 m with 0.61 m.
    dt = 0.5
    go, brake = _line(100.0, 50.0, 0.0, [10.0] * 5, dt), _line(100.0, 50.0, 0.0, [10.0, 10.0, 0.0, 0.0, 0.0], dt)
    offroad = np.full((4, 5), -1.0)
    offroad[2, 3], offroad[3, 3] = 0.6, 0.61
    r = _rollouts([go, brake, go, go], dt, offroad=offroad)
    r = Rollouts(r.states, r.accel, r.offroad_m, r.changes_lane, np.array([True, True, False, True]), dt)
    total, terms = score(r, np.zeros((0, 5, 7)), 5.0, 2.0, np.array([1.0, 0.0, 1.0, 1.0]), P)
    np.testing.assert_allclose(terms["progress"], [1.0, 0.5, 1.0, 1.0])
    assert terms["comfort"].tolist() == [True, False, True, True]
    assert terms["offroad"].tolist() == [False, False, False, True]
    np.testing.assert_allclose(total, [1.0, (5 + 2.5 + 2) / W, (5 + 5 + 2 + 0.1) / W, 0.0])


@pytest.mark.parametrize("best_m, expected", [(4.0, [1.0, 1.0]), (5.0, [1.0, 1.0]), (5.5, [1.0, 0.5])])
def test_progress_is_only_compared_once_some_proposal_gets_past_5_m(best_m, expected):
    dt = 0.5
    r = _rollouts([_line(0.0, 0.0, 0.0, [best_m] * 3, dt), _line(0.0, 0.0, 0.0, [best_m / 2] * 3, dt)], dt)
    _, terms = score(r, np.zeros((0, 3, 7)), 5.0, 2.0, np.ones(2), P)
    assert terms["progress"].tolist() == expected


def test_collision_time_is_the_first_colliding_step_in_seconds():
    # 10 m/s from 0 m towards a car parked at 20 m: bumpers (0.3 m margin) meet after 14.7 m, 1.5 s.
    r = _rollouts([_line(0.0, 0.0, 0.0, [10.0] * 5, 0.5)], 0.5)
    total, terms = score(r, _still(5, [20.0, 0.0, 0.0, 0.0, 0.0, 5.0, 2.0]), 5.0, 2.0, np.ones(1), P)
    assert terms["collision"].tolist() == [True] and total.tolist() == [0.0]
    assert terms["collision_time_s"].tolist() == [1.5]


def test_ttc_is_judged_on_the_constant_velocity_predictions_when_given():
    r = _rollouts([_line(0.0, 0.0, 0.0, [10.0] * 5, 0.5)], 0.5)
    away = _still(5, [60.0, 30.0, 0.0, 0.0, 0.0, 5.0, 2.0])
    in_path = _still(5, [23.0, 0.0, 0.0, 0.0, 0.0, 5.0, 2.0])   # reached from 15 m, 1 s on at 10 m/s
    _, terms = score(r, away, 5.0, 2.0, np.ones(1), P, pred_cv=in_path)
    assert terms["ttc_ok"].tolist() == [False] and terms["collision"].tolist() == [False]
    _, terms = score(r, away, 5.0, 2.0, np.ones(1), P)
    assert terms["ttc_ok"].tolist() == [True]


def _crossing_scene():
    # Ego at 10 m/s along +x in 2 s steps meets x = 40 m at 4 s. A 4.5 m car crosses there at 2 m/s
    # from y = -19 m: at 4 s its front is at -8.75 m, but may be up to 2 m (0.5 s margin) plus
    # 8 m (speeding up at 1 m/s^2 for 4 s) farther: at 0.25 m, on the ego's path.
    r = _rollouts([_line(0.0, 0.0, 0.0, [10.0] * 4, 2.0)], 2.0)
    t = np.arange(4) * 2.0
    car = np.array([[[40.0, -19.0 + 2.0 * ti, 0.0, 2.0, math.pi / 2, 4.5, 1.8] for ti in t]])
    return r, car


@pytest.mark.parametrize("limit, collides", [(None, True), (np.array([20.0]), True), (np.array([2.0]), False)])
def test_a_crossing_car_that_may_speed_up_closes_the_gap(limit, collides):
    r, car = _crossing_scene()
    _, terms = score(r, car, 5.0, 2.0, np.ones(1), P, crossing=np.array([True]), speed_limit_mps=limit)
    assert terms["collision"].tolist() == [collides]
    _, plain = score(r, car, 5.0, 2.0, np.ones(1), P)
    assert plain["collision"].tolist() == [False]           # as a non-crossing track it is not in the way
    _, timed = score(r, car, 5.0, 2.0, np.ones(1), P, crossing=np.array([True]), times_s=np.arange(4) * 2.0,
                     speed_limit_mps=limit)
    assert timed["collision"].tolist() == [collides]


def test_a_waiting_proposal_standing_at_its_line_is_not_blamed_for_crossing_traffic():
    # Standing still; a crossing car passes through the ego's box, its centre 1 m behind the ego's
    # (so only the crossing rule can make it the ego's doing): at y = -10, 0, 10 m at 0, 1, 2 s.
    r = _rollouts([_line(0.0, 0.0, 0.0, [0.0] * 3, 1.0)], 1.0)
    car = np.array([[[-1.0, -10.0 + 10.0 * k, 0.0, 10.0, math.pi / 2, 4.5, 1.8] for k in range(3)]])
    kwargs = dict(crossing=np.array([True]), speed_limit_mps=np.array([5.0]))
    _, waiting = score(r, car, 5.0, 2.0, np.ones(1), P, waiting=np.array([True]), **kwargs)
    _, going = score(r, car, 5.0, 2.0, np.ones(1), P, waiting=np.array([False]), **kwargs)
    assert waiting["collision"].tolist() == [False] and going["collision"].tolist() == [True]
