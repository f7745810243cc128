"""Time-to-collision edge cases, and the contracts of the two pre-filters that keep it fast.

The pre-filters (``_reachable``, ``_candidates``) may only drop what cannot change the answer, and
must drop what they promise to: a filter that keeps everything is correct but slow, one that keeps
too little misses collisions. Both halves are pinned here on hand-computed boundaries.
"""
import math

import numpy as np
import pytest

from planning.ttc import _candidates, _reachable, min_time_to_collision

EGO = np.array([0.0, 0.0, 0.0, 10.0, 5.0, 2.0])  # origin, heading +x, 10 m/s, 5 m x 2 m


def car(x, y, vx=0.0, vy=0.0, yaw=0.0, length=5.0, width=2.0):
    return [x, y, vx, vy, yaw, length, width]


def test_a_collision_just_past_the_default_horizon_is_not_reported():
    # 20 m gap closed at 3.96 m/s: 5.05 s, after the 5 s horizon (the 5.1 s step must not be tested).
    assert min_time_to_collision(EGO, np.array([car(25.0, 0.0, vx=6.04)])) == math.inf
    assert min_time_to_collision(EGO, np.array([car(25.0, 0.0, vx=6.04)]), horizon_s=5.1) == pytest.approx(5.1)


def test_the_last_step_of_a_horizon_that_is_not_a_float_multiple_of_the_step_is_tested():
    # 0.3 / 0.1 is 2.9999999999999996 in floats: the 0.3 s step still belongs to the horizon.
    # 3 m gap closed at 10 m/s: bumpers meet at 0.3 s.
    assert min_time_to_collision(EGO, np.array([car(8.0, 0.0)]), horizon_s=0.3) == pytest.approx(0.3)


def test_a_car_level_with_the_ego_touching_its_side_counts_at_once():
    # Centres level (neither ahead nor behind), sides touching at y = 1: overlap now, ego's doing.
    assert min_time_to_collision(EGO, np.array([car(0.0, 2.0)])) == 0.0
    assert min_time_to_collision(EGO, np.array([car(0.0, 2.0 + 1e-6)])) == math.inf


def test_a_long_truck_far_ahead_is_not_dropped_as_out_of_reach():
    # A stopped 20 m x 2.5 m truck centred 62 m ahead: its rear at 52 m, the ego's front (2.5 m)
    # reaches it at 4.95 s, first seen at the 5.0 s step. The 10 m reach margin alone would drop it.
    truck = car(62.0, 0.0, length=20.0, width=2.5)
    assert min_time_to_collision(EGO, np.array([truck])) == pytest.approx(5.0)


def test_a_fast_car_crossing_from_far_off_to_the_side_is_seen():
    # 89 m away at t = 0, crossing the ego's path at 20 m/s: y overlap from 3.825 s, x overlap
    # from 3.65 s, so the first overlapping step is 3.9 s (its centre then 1 m ahead of the ego's).
    crossing = car(40.0, -80.0, vy=20.0, yaw=math.pi / 2)
    assert min_time_to_collision(EGO, np.array([crossing])) == pytest.approx(3.9)


def test_the_answer_does_not_depend_on_where_the_scene_is_or_how_it_is_turned():
    yaw = 0.3
    c, s = math.cos(yaw), math.sin(yaw)
    x0, y0 = 1000.0, -500.0
    ego = np.array([x0, y0, yaw, 10.0, 5.0, 2.0])
    ahead = car(x0 + 25.0 * c, y0 + 25.0 * s, yaw=yaw)        # stopped 25 m ahead: 20 m gap, 2.0 s
    assert min_time_to_collision(ego, np.array([ahead])) == pytest.approx(2.0)


def test_a_car_running_into_the_ego_from_behind_does_not_hide_a_car_ahead():
    # The first already overlaps the ego's rear (not the ego's doing); the second is hit at 1.0 s.
    others = np.array([car(-1.5, 0.0, vx=10.0), car(15.0, 0.0)])
    assert min_time_to_collision(EGO, others) == pytest.approx(1.0)


def test_reachable_keeps_exactly_the_vehicles_that_can_meet_the_ego_within_the_horizon():
    # Reach: (10 + 5 m/s) * 2 s + 10 m margin = 40 m.
    others = np.array([car(40.0, 0.0, vx=3.0, vy=4.0), car(0.0, -40.01, vx=3.0, vy=4.0)])
    kept = _reachable(EGO, others, horizon_s=2.0)
    np.testing.assert_array_equal(kept, others[:1])
    assert len(_reachable(EGO, others[1:], horizon_s=2.0)) == 0


def test_reachable_widens_the_margin_to_both_bounding_radii_for_long_vehicles():
    # 0.5 * hypot(5, 2) + 0.5 * hypot(20, 2.5) = 12.770 m margin: reach 42.770 m at 15 m/s for 2 s.
    radii = 0.5 * math.hypot(5.0, 2.0) + 0.5 * math.hypot(20.0, 2.5)
    at = 30.0 + radii
    trucks = np.array([car(at - 0.01, 0.0, vx=5.0, length=20.0, width=2.5),
                       car(at + 0.01, 0.0, vx=5.0, length=20.0, width=2.5)])
    np.testing.assert_array_equal(_reachable(EGO, trucks, horizon_s=2.0), trucks[:1])


def _grid(ego, others_xy_by_step, others):
    """Candidates for a stationary ego and other boxes at the given (N, K, 2) centres."""
    ego_xy = np.repeat(ego[None, :2], others_xy_by_step.shape[1], axis=0)
    return _candidates(ego, ego_xy, others, others_xy_by_step)


def test_candidates_drop_pairs_apart_along_the_ego_axes_and_keep_touching_ones():
    ego = np.array([0.0, 0.0, 0.0, 0.0, 5.0, 2.0])
    same = np.array([car(0, 0), car(0, 0)])
    # Aligned 5 m x 2 m boxes touch at |lon| = 5 or |lat| = 2.
    xy = np.array([[[5.0, 0.0], [5.01, 0.0], [0.0, 2.5], [0.0, 2.0]],
                   [[0.0, 2.01], [-5.0, 0.0], [4.0, 1.9], [-5.01, 0.0]]])
    np.testing.assert_array_equal(_grid(ego, xy, same), [[True, False, False, True], [False, True, True, False]])


def test_candidates_use_the_extent_of_a_turned_box_along_each_ego_axis():
    ego = np.array([0.0, 0.0, 0.0, 0.0, 5.0, 2.0])
    across = np.array([car(0, 0, yaw=math.pi / 2)] * 2)     # 1 m half extent along x, 2.5 m along y
    xy = np.array([[[3.5, 0.0], [3.6, 0.0]], [[0.0, 3.5], [0.0, 3.6]]])
    np.testing.assert_array_equal(_grid(ego, xy, across), [[True, False], [True, False]])


def test_candidates_stop_after_the_first_certain_overlap():
    # Inscribed radii: 1 m (ego) + 1 m (car): centres 2 m apart certainly overlap, so the pairs
    # after that step are not needed; before it, every pair that may overlap is kept.
    ego = np.array([0.0, 0.0, 0.0, 0.0, 5.0, 2.0])
    xy = np.array([[[4.0, 0.0], [2.0, 0.0], [0.0, 0.0], [-2.0, 0.0]],
                   [[2.01, 0.0], [0.0, 1.5], [0.0, 0.0], [0.0, 0.0]]])
    np.testing.assert_array_equal(_grid(ego, xy, np.array([car(0, 0)] * 2)),
                                  [[True, True, False, False], [True, True, False, False]])


@pytest.mark.parametrize("ego_len, ego_wid, length, width, yaw, miss", [
    (1.0, 3.0, 5.0, 2.0, math.pi / 2, (1.55, 0.0)),  # an ego wider than long: inscribed radius 0.5 m
    (5.0, 2.0, 0.5, 4.0, math.pi / 2, (0.0, 1.3)),   # a thin, wide box: inscribed radius 0.25 m
    (5.0, 2.0, 5.0, 1.0, 0.0, (0.0, 1.55)),          # a narrow one: 1 m + 0.5 m
    (5.0, 2.0, 5.0, 2.0, 0.0, (0.0, 2.05)),          # two cars: 1 m + 1 m
])
def test_candidates_do_not_call_a_near_miss_certain(ego_len, ego_wid, length, width, yaw, miss):
    # A box 5 cm clear of the ego but within a too-generous "certain" radius must not cut off its
    # real overlap one step later, when it sits on the ego's centre.
    ego = np.array([0.0, 0.0, 0.0, 0.0, ego_len, ego_wid])
    other = car(*miss, yaw=yaw, length=length, width=width)
    xy = np.array([[miss, [0.0, 0.0]]])
    np.testing.assert_array_equal(_grid(ego, xy, np.array([other])), [[False, True]])
    other[2:4] = -10.0 * np.asarray(miss)                  # there 0.1 s later
    assert min_time_to_collision(ego, np.array([other]), horizon_s=0.2) == pytest.approx(0.1)


def test_candidates_do_not_call_a_car_well_behind_certain():
    # 10 m behind and 3.5 m to the side is far from overlapping (lon**2 + lat**2, not 2 * lon).
    ego = np.array([0.0, 0.0, 0.0, 0.0, 5.0, 2.0])
    xy = np.array([[[-10.0, 3.5], [0.0, 1.5]]])
    np.testing.assert_array_equal(_grid(ego, xy, np.array([car(0, 0)])), [[False, True]])
