"""Time-to-collision and the oriented-box overlap test it relies on."""
import math

import numpy as np

from planning.geometry import box_corners, boxes_overlap
from planning.ttc import min_time_to_collision

EGO = np.array([0.0, 0.0, 0.0, 10.0, 5.0, 2.0])  # origin, heading +x, 10 m/s, 5 m x 2 m


def car(x, y, vx=0.0, vy=0.0, yaw=0.0, length=5.0, width=2.0):
    return [x, y, vx, vy, yaw, length, width]


def corners(x, y, yaw, length, width):
    return box_corners(np.array(x), np.array(y), np.array(yaw), np.array(length), np.array(width))


def test_stopped_car_ahead_is_hit_when_gap_closes():
    # Gap between bumpers: 25 - 2.5 - 2.5 = 20 m, closed at 10 m/s -> 2.0 s.
    ttc = min_time_to_collision(EGO, np.array([car(25.0, 0.0)]))
    assert abs(ttc - 2.0) <= 0.1 + 1e-9


def test_slower_car_ahead_uses_relative_speed():
    # 20 m gap closed at 10 - 6 = 4 m/s -> 5.0 s, just inside the default horizon.
    assert abs(min_time_to_collision(EGO, np.array([car(25.0, 0.0, vx=6.0)])) - 5.0) <= 0.1 + 1e-9
    assert min_time_to_collision(EGO, np.array([car(25.0, 0.0, vx=7.0)])) == math.inf


def test_car_in_adjacent_lane_at_same_speed_is_never_hit():
    assert min_time_to_collision(EGO, np.array([car(5.0, 4.0, vx=10.0)])) == math.inf


def test_faster_car_from_behind_is_not_the_ego_responsibility():
    # It reaches the ego's rear bumper at t = 1 s and would pass through the ego afterwards.
    assert min_time_to_collision(EGO, np.array([car(-15.0, 0.0, vx=20.0)])) == math.inf


def test_already_overlapping_is_zero():
    assert min_time_to_collision(EGO, np.array([car(3.0, 0.5)])) == 0.0


def test_empty_others_is_inf():
    assert min_time_to_collision(EGO, np.zeros((0, 7))) == math.inf


def test_earliest_of_several_vehicles_wins_and_far_ones_are_ignored():
    others = np.array([
        car(45.0, 0.0),  # hit at 4.0 s
        car(15.0, 0.0),  # hit at 1.0 s
        car(1000.0, 0.0, vx=-5.0),  # out of reach within 5 s
        car(-15.0, 0.0, vx=20.0),  # from behind: ignored
    ])
    assert abs(min_time_to_collision(EGO, others) - 1.0) <= 0.1 + 1e-9


def test_crossing_car_from_the_side_counts():
    # Crosses the ego lane at x = 20 m: reaches it when the ego does (t ~ 2 s, ego front at 22.5 m).
    crossing = car(20.0, -20.0, vy=10.0, yaw=math.pi / 2)
    ttc = min_time_to_collision(EGO, np.array([crossing]))
    assert 1.5 <= ttc <= 2.0


def test_rotated_ego_heading_is_followed():
    ego = np.array([0.0, 0.0, math.pi / 2, 10.0, 5.0, 2.0])  # driving along +y
    assert abs(min_time_to_collision(ego, np.array([car(0.0, 25.0, yaw=math.pi / 2)])) - 2.0) <= 0.1 + 1e-9
    assert min_time_to_collision(ego, np.array([car(25.0, 0.0)])) == math.inf


def test_boxes_overlap_axis_aligned_touching_and_separated():
    a = corners(0.0, 0.0, 0.0, 4.0, 2.0)
    assert boxes_overlap(a, corners(4.0, 0.0, 0.0, 4.0, 2.0))  # touching faces
    assert not boxes_overlap(a, corners(4.01, 0.0, 0.0, 4.0, 2.0))


def test_boxes_overlap_rotated_diamond_tip():
    # A 2 m square turned 45 deg reaches x = sqrt(2); a square whose left face is there touches it.
    diamond = corners(0.0, 0.0, math.pi / 4, 2.0, 2.0)
    assert boxes_overlap(diamond, corners(math.sqrt(2) + 1.0 - 1e-6, 0.0, 0.0, 2.0, 2.0))
    assert not boxes_overlap(diamond, corners(math.sqrt(2) + 1.0 + 1e-3, 0.0, 0.0, 2.0, 2.0))


def test_boxes_overlap_rotated_side_by_side_with_overlapping_bounding_boxes():
    # Two 4 m x 1 m boxes at 45 deg, offset across their width: axis-aligned bounds overlap, but
    # the boxes only touch when the offset is below the 1 m width.
    yaw = math.pi / 4
    normal = np.array([-math.sin(yaw), math.cos(yaw)])
    a = corners(0.0, 0.0, yaw, 4.0, 1.0)
    far, near = 1.2 * normal, 0.9 * normal
    assert not boxes_overlap(a, corners(far[0], far[1], yaw, 4.0, 1.0))
    assert boxes_overlap(a, corners(near[0], near[1], yaw, 4.0, 1.0))


def test_boxes_overlap_broadcasts_over_a_batch():
    a = corners(0.0, 0.0, 0.3, 4.0, 2.0)
    xs = np.array([0.0, 3.0, 10.0])
    b = box_corners(xs, np.zeros(3), np.full(3, -0.3), np.full(3, 4.0), np.full(3, 2.0))
    np.testing.assert_array_equal(boxes_overlap(a, b), [True, True, False])


def _brute_force_ttc(ego, others, horizon_s=5.0, step_s=0.1):
    """Reference: every vehicle, every step, first overlap kept unless the vehicle is behind."""
    t_s = step_s * np.arange(int(round(horizon_s / step_s)) + 1)
    heading = np.array([math.cos(ego[2]), math.sin(ego[2])])
    ego_xy = ego[:2] + ego[3] * t_s[:, None] * heading
    full = np.ones(len(t_s))
    ego_box = box_corners(ego_xy[:, 0], ego_xy[:, 1], ego[2] * full, ego[4] * full, ego[5] * full)
    best = math.inf
    for v in others:
        xy = v[:2] + v[2:4] * t_s[:, None]
        hit = boxes_overlap(ego_box, box_corners(xy[:, 0], xy[:, 1], v[4] * full, v[5] * full, v[6] * full))
        k = int(np.argmax(hit))
        if hit.any() and (xy[k] - ego_xy[k]) @ heading >= 0.0:
            best = min(best, float(t_s[k]))
    return best


def test_matches_brute_force_on_random_scenes():
    rng = np.random.default_rng(7)
    n_finite = 0
    for _ in range(300):
        n = int(rng.integers(0, 8))
        ego = np.array([*rng.normal(0, 3, 2), rng.uniform(-np.pi, np.pi), rng.uniform(0, 25),
                        rng.uniform(3, 12), rng.uniform(1.5, 2.6)])
        others = np.column_stack([
            rng.uniform(-60, 60, n), rng.uniform(-30, 30, n), rng.normal(0, 12, n), rng.normal(0, 12, n),
            rng.uniform(-np.pi, np.pi, n), rng.uniform(3, 15, n), rng.uniform(1.5, 2.6, n),
        ])
        expected = _brute_force_ttc(ego, others)
        assert min_time_to_collision(ego, others) == expected
        n_finite += math.isfinite(expected)
    assert n_finite > 20  # the scenes do exercise collisions
