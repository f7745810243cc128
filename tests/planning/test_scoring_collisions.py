"""The scorer's view of other tracks: how predicted boxes grow, and which overlaps count as collisions.

Hand-built predictions (N, K, 7: x, y, vx, vy, yaw, length, width) with expected values worked out
in the comments.
"""
import math

import numpy as np
import pytest

from planning.scoring import (Rollouts, ScoringParams, _within_bounding_circles, first_collision_step,
                              inflate_predictions, stretch_crossing)

YAW_34 = math.atan2(3.0, 4.0)           # cos 0.8, sin 0.6: a heading a 3-4-5 velocity points along


def _pred(rows) -> np.ndarray:
    """(N, K, 7) predictions from N lists of K rows."""
    return np.array(rows, dtype=float)


def _still(n_steps, *rows) -> np.ndarray:
    """Each track standing at its row for ``n_steps`` times."""
    return _pred([[row] * n_steps for row in rows])


def _standing_rollouts(xyyaw, speeds, changes_lane=None) -> Rollouts:
    """B rollouts of two states, each standing at ``xyyaw`` with its recorded speed [m/s]."""
    b = len(speeds)
    states = np.array([[[*xyyaw, v]] * 2 for v in speeds], dtype=float)
    lane = np.zeros(b, bool) if changes_lane is None else np.asarray(changes_lane)
    return Rollouts(states, np.zeros((b, 1)), np.full((b, 2), -1.0), lane, np.ones(b, bool), 0.5)


def test_a_crossing_track_is_stretched_by_its_margin_and_grows_forward_up_to_its_limit():
    # 5 m/s now, 7 m/s from the first step on, heading (0.8, 0.6); 6 m/s limit, 0.5 m/s^2: it would
    # reach the limit after (6 - 5) / 0.5 = 2 s, covering 0.25 t^2 until then and 1 m/s more after.
    p = ScoringParams(conflict_margin_s=0.5, crossing_accel_mps2=0.5)
    times = np.array([0.0, 0.5, 1.0, 2.0, 3.0])
    row = [[10.0, 20.0, 4.0, 3.0, YAW_34, 4.5, 1.8]] + [[10.0, 20.0, 5.6, 4.2, YAW_34, 4.5, 1.8]] * 4
    other = [[0.0, 0.0, 0.0, 9.0, 1.0, 4.5, 1.8]] * 5
    pred = _pred([row, other])
    out = stretch_crossing(pred, np.array([True, False]), times, p, np.array([6.0, 6.0]))
    ahead = np.array([0.0, 0.0625, 0.25, 1.0, 2.0])
    speed = np.array([5.0, 7.0, 7.0, 7.0, 7.0])
    np.testing.assert_allclose(out[0, :, 5], 4.5 + 2 * 0.5 * speed + ahead)          # margin front and back
    np.testing.assert_allclose(out[0, :, 0], 10.0 + 0.5 * ahead * 0.8)               # centre moves half of it
    np.testing.assert_allclose(out[0, :, 1], 20.0 + 0.5 * ahead * 0.6)
    np.testing.assert_array_equal(out[0, :, 2:5], pred[0, :, 2:5])
    np.testing.assert_array_equal(out[0, :, 6], pred[0, :, 6])
    np.testing.assert_array_equal(out[1], pred[1])                                   # not crossing: untouched


def test_a_crossing_track_already_at_its_limit_is_only_stretched_by_the_margin():
    p = ScoringParams(conflict_margin_s=0.5, crossing_accel_mps2=1.0)
    pred = _still(3, [0.0, 0.0, 10.0, 0.0, 0.0, 4.5, 1.8])
    out = stretch_crossing(pred, np.array([True]), np.arange(3.0), p, np.array([8.0]))
    np.testing.assert_allclose(out[0, :, 5], 4.5 + 10.0)
    np.testing.assert_array_equal(out[0, :, 0], 0.0)


@pytest.mark.parametrize("limit", [None, np.array([150.0])])
def test_without_a_lane_limit_a_crossing_track_speeds_up_to_100_mps(limit):
    # 99 m/s, 1 m/s^2: 1 s to 100 m/s, then 1 m/s faster than now: ahead 0, 0.5, 1.5, 2.5 m.
    p = ScoringParams(conflict_margin_s=0.0, crossing_accel_mps2=1.0)
    pred = _still(4, [0.0, 0.0, 99.0, 0.0, 0.0, 4.5, 1.8])
    out = stretch_crossing(pred, np.array([True]), np.arange(4.0), p, limit)
    np.testing.assert_allclose(out[0, :, 5], 4.5 + np.array([0.0, 0.5, 1.5, 2.5]))


def test_a_crossing_track_that_may_not_accelerate_does_not_grow_forward():
    p = ScoringParams(conflict_margin_s=0.5, crossing_accel_mps2=0.0)
    pred = _still(3, [0.0, 0.0, 2.0, 0.0, 0.0, 4.5, 1.8])
    out = stretch_crossing(pred, np.array([True]), np.arange(3.0), p, np.array([20.0]))
    np.testing.assert_allclose(out[0, :, 5], 4.5 + 2.0, atol=1e-6)


def test_predicted_boxes_grow_with_time_and_with_the_uncertainty_of_the_track_speed():
    # Along: 2 * max(0.5 m/s, 1.0 * speed std) per second; across: 2 * 0.1 m/s.
    p = ScoringParams()
    times = np.array([0.0, 1.0, 2.0])
    pred = _still(3, [0.0, 0.0, 5.0, 0.0, 0.0, 4.5, 1.8], [0.0, 9.0, 5.0, 0.0, 0.0, 4.5, 1.8])
    out = inflate_predictions(pred, times, p, np.array([0.2, 2.0]))
    np.testing.assert_allclose(out[:, :, 5], [4.5 + 1.0 * times, 4.5 + 4.0 * times])
    np.testing.assert_allclose(out[:, :, 6], [1.8 + 0.2 * times] * 2)
    np.testing.assert_allclose(inflate_predictions(pred, times, p)[:, :, 5], [4.5 + times] * 2)
    np.testing.assert_array_equal(out[..., :5], pred[..., :5])


def test_only_pairs_within_the_sum_of_their_bounding_radii_are_near():
    reach = 0.5 * math.hypot(5.6, 2.6) + 0.5 * math.hypot(4.5, 1.8)
    pred = _still(2, [0.0, 0.0, 0.0, 0.0, 0.0, 4.5, 1.8])
    direction = np.array([0.6, -0.8])
    rel = np.array([[[(reach - 0.01) * direction, (reach + 0.01) * direction]]])
    np.testing.assert_array_equal(_within_bounding_circles(rel, pred, 5.6, 2.6), [[[True, False]]])


def test_boxes_meeting_corner_to_corner_collide():
    # The other box's far diagonal points back along the ego's diagonal: their corners meet when the
    # centres are the sum of the half diagonals apart; 2 cm closer, they overlap.
    theta = math.atan2(1.3, 2.8)                            # the ego's (5 m x 2 m + 0.3 m margin) diagonal
    yaw = theta - math.atan2(0.9, 2.25)
    d = 0.5 * math.hypot(5.6, 2.6) + 0.5 * math.hypot(4.5, 1.8) - 0.02
    pred = _still(2, [d * math.cos(theta), d * math.sin(theta), 0.0, 0.0, yaw, 4.5, 1.8])
    assert first_collision_step(_standing_rollouts([0.0, 0.0, 0.0], [0.0]), pred, 5.0, 2.0, 0.3).tolist() == [0]


@pytest.mark.parametrize("x, y, hit", [
    (6.0 + 0.2, 0.0, True), (6.0 + 0.4, 0.0, False),      # 0.3 m margin at the front bumper
    (1.0, 2.0 + 0.2, True), (1.0, 2.0 + 0.4, False),      # ... and at the side
])
def test_the_ego_box_is_grown_by_the_collision_margin_on_every_side(x, y, hit):
    # A 5 m x 2 m ego and a 7 m x 2 m car: bumpers touch at 6 m, sides at 2 m.
    pred = _still(2, [x, y, 0.0, 0.0, 0.0, 7.0, 2.0])
    first = first_collision_step(_standing_rollouts([0.0, 0.0, 0.0], [0.0]), pred, 5.0, 2.0, 0.3)
    assert first.tolist() == ([0] if hit else [2])


def test_collisions_are_found_on_a_lane_off_the_x_axis():
    # Ego on the lane at y = 3.5 driving +x at 10 m/s; a car parked 20 m ahead on it, another on the
    # next lane. Bumpers (with the 0.3 m margin) meet after 20 - 5 - 0.3 = 14.7 m: the 1.5 s step.
    t = np.arange(5) * 0.5
    states = np.stack([10.0 * t, np.full(5, 3.5), np.zeros(5), np.full(5, 10.0)], axis=1)[None]
    r = Rollouts(states, np.zeros((1, 4)), np.full((1, 5), -1.0), np.zeros(1, bool), np.ones(1, bool), 0.5)
    ahead = _still(5, [20.0, 3.5, 0.0, 0.0, 0.0, 5.0, 2.0])
    beside = _still(5, [20.0, 0.0, 0.0, 0.0, 0.0, 5.0, 2.0])
    assert first_collision_step(r, ahead, 5.0, 2.0, 0.3).tolist() == [3]
    assert first_collision_step(r, beside, 5.0, 2.0, 0.3).tolist() == [5]


def _offset(yaw, along, left):
    return along * math.cos(yaw) - left * math.sin(yaw), along * math.sin(yaw) + left * math.cos(yaw)


@pytest.mark.parametrize("along, changes_lane, first", [
    (0.5, False, 0),    # its centre half a metre ahead: the ego ran into it
    (-0.5, False, 2),   # half a metre behind: it ran into the ego, which kept its lane
    (-0.5, True, 0),    # ... unless the ego cut in front of it
])
def test_an_overlap_is_the_egos_fault_when_the_track_is_ahead_or_the_ego_changes_lane(along, changes_lane, first):
    yaw = math.pi / 3                                      # ego heading 60 degrees, a car 1.5 m to its left
    x, y = _offset(yaw, along, 1.5)
    pred = _still(2, [x, y, 0.0, 0.0, yaw, 5.0, 2.0])
    r = _standing_rollouts([0.0, 0.0, yaw], [0.0], [changes_lane])
    assert first_collision_step(r, pred, 5.0, 2.0, 0.3).tolist() == [first]


def test_a_car_exactly_level_with_the_ego_is_not_ahead_of_it():
    pred = _still(2, [0.0, 1.5, 0.0, 0.0, 0.0, 5.0, 2.0])
    assert first_collision_step(_standing_rollouts([0.0, 0.0, 0.0], [0.0]), pred, 5.0, 2.0, 0.3).tolist() == [2]


# A crossing track overlapping the ego's rear right (its centre behind the ego's), and one crossing
# 0.45 m clear of the ego's right side (near, not touching).
CROSSING_HIT = [-2.0, -1.5, 0.0, 3.0, math.pi / 2, 4.5, 1.8]
CROSSING_CLEAR = [0.0, -4.0, 0.0, 3.0, math.pi / 2, 4.5, 1.8]


def test_crossing_traffic_counts_from_any_side_unless_a_waiting_proposal_stands_still():
    # Proposals: waiting and stopped; waiting at exactly 0.5 m/s; not waiting, stopped; waiting, moving.
    r = _standing_rollouts([0.0, 0.0, 0.0], [0.0, 0.5, 0.0, 1.0])
    pred = _still(2, CROSSING_HIT, CROSSING_CLEAR)
    crossing, waiting = np.array([True, True]), np.array([True, True, False, True])
    assert first_collision_step(r, pred, 5.0, 2.0, 0.3, crossing, waiting).tolist() == [2, 0, 0, 0]
    assert first_collision_step(r, pred, 5.0, 2.0, 0.3, crossing).tolist() == [0, 0, 0, 0]
    assert first_collision_step(r, pred, 5.0, 2.0, 0.3, np.array([False, False]), waiting).tolist() == [2] * 4
    assert first_collision_step(r, pred[1:], 5.0, 2.0, 0.3, crossing[1:], waiting).tolist() == [2] * 4


def test_a_track_ahead_is_still_hit_by_a_waiting_proposal_when_crossing_flags_are_given():
    r = _standing_rollouts([0.0, 0.0, 0.0], [0.0])
    pred = _still(2, [4.0, 0.0, 0.0, 0.0, 0.0, 4.5, 1.8], CROSSING_CLEAR)
    first = first_collision_step(r, pred, 5.0, 2.0, 0.3, np.array([False, True]), np.array([True]))
    assert first.tolist() == [0]


def test_no_tracks_means_no_collision():
    r = _standing_rollouts([0.0, 0.0, 0.0], [0.0, 3.0])
    assert first_collision_step(r, np.zeros((0, 2, 7)), 5.0, 2.0, 0.3).tolist() == [2, 2]
