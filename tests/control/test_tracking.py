"""The tracking laws on hand-built paths: arc length, points along a path, the pure-pursuit lookahead
and curvature worked out from the geometry, and reference interpolation in time."""
import numpy as np
import pytest

from control.tracking import (PurePursuitParams, path_arc_length, point_at_arc_length, pure_pursuit_curvature,
                              reference_at)

# segments of 5, 6, 0.5 and 6 m
PATH = np.array([[0.0, 0.0], [3.0, 4.0], [3.0, 10.0], [3.0, 10.5], [9.0, 10.5]])


def test_arc_length_of_a_batch_of_paths():
    paths = np.stack([PATH, PATH[::-1]])
    expected = np.array([[0.0, 5.0, 11.0, 11.5, 17.5], [0.0, 6.0, 6.5, 12.5, 17.5]])
    assert path_arc_length(paths) == pytest.approx(expected)


@pytest.mark.parametrize("s_query, point", [
    (-1.0, (0.0, 0.0)), (0.0, (0.0, 0.0)), (2.5, (1.5, 2.0)), (5.0, (3.0, 4.0)), (8.0, (3.0, 7.0)),
    (11.25, (3.0, 10.25)), (14.5, (6.0, 10.5)), (17.5, (9.0, 10.5)), (20.0, (9.0, 10.5))])
def test_point_at_arc_length_interpolates_and_clamps_to_the_ends(s_query, point):
    assert point_at_arc_length(PATH[None], path_arc_length(PATH[None]), np.array([s_query]))[0] == pytest.approx(point)


def test_point_at_arc_length_answers_each_row_of_a_batch():
    queries = np.array([2.5, 8.0, 14.5])
    paths = np.repeat(PATH[None], 3, axis=0)
    got = point_at_arc_length(paths, path_arc_length(paths), queries)
    assert got == pytest.approx(np.array([[1.5, 2.0], [3.0, 7.0], [6.0, 10.5]]))


def test_a_path_ending_in_a_repeated_point_gives_that_point_not_nan():
    path = np.array([[[0.0, 0.0], [5.0, 0.0], [5.0, 0.0]]])      # a stopped trajectory's end
    assert point_at_arc_length(path, path_arc_length(path), np.array([5.0]))[0] == pytest.approx([5.0, 0.0])


def _line(y_m: float, step: float = 1.0, half: float = 50.0) -> np.ndarray:
    x = np.linspace(-half, half, int(round(2 * half / step)) + 1)
    return np.stack([x, np.full_like(x, y_m)], axis=1)[None]


@pytest.mark.parametrize("speed, lookahead", [(0.0, 3.0), (10.0, 6.0), (-10.0, 6.0), (20.0, 13.0), (40.0, 30.0)])
def test_lookahead_grows_with_speed_up_to_its_maximum(speed, lookahead):
    # a path 1 m to the left: the lookahead point is (Ld, 1), so the curvature is 2 sin(alpha) / d = 2 / (Ld^2 + 1)
    curvature = pure_pursuit_curvature(np.array([[0.0, 0.0, 0.0, speed]]), _line(1.0), PurePursuitParams())
    assert curvature == pytest.approx([2.0 / (lookahead ** 2 + 1.0)])


def test_on_the_path_and_along_it_the_curvature_is_zero():
    assert pure_pursuit_curvature(np.array([[0.0, 0.0, 0.0, 10.0]]), _line(0.0), PurePursuitParams()) == [0.0]


def test_the_angle_is_taken_from_the_direction_of_motion():
    state = np.array([[0.0, 0.0, 0.0, 10.0]])
    # slipping 0.1 rad to the left while heading along the path: steer back right
    expected = 2.0 * np.sin(-0.1) / 6.0
    assert pure_pursuit_curvature(state, _line(0.0), PurePursuitParams(), slip_rad=0.1) == pytest.approx([expected])


def test_each_row_of_a_batch_uses_its_own_nearest_point():
    states = np.array([[0.0, 0.0, 0.0, 10.0], [20.0, 0.0, 0.0, 10.0]])
    paths = np.concatenate([_line(1.0), _line(-1.0)])
    assert pure_pursuit_curvature(states, paths, PurePursuitParams()) == pytest.approx([2.0 / 37.0, -2.0 / 37.0])


def test_a_lookahead_point_closer_than_one_metre_still_steers():
    params = PurePursuitParams(lookahead_min_m=0.6, lookahead_gain_s=0.0, lookahead_quad_s2pm=0.0, lookahead_max_m=0.6)
    # the path 0.45 m to the left: target (0.6, 0.45) at 0.75 m, sin(alpha) = 0.6 -> 2 * 0.6 / 0.75
    got = pure_pursuit_curvature(np.array([[0.0, 0.0, 0.0, 5.0]]), _line(0.45, step=0.05, half=5.0), params)
    assert got == pytest.approx([1.6])


def test_no_curvature_when_the_lookahead_point_is_within_half_a_metre():
    params = PurePursuitParams(lookahead_min_m=0.5, lookahead_gain_s=0.0, lookahead_quad_s2pm=0.0, lookahead_max_m=0.5)
    path = np.stack([np.arange(21) * 0.5, np.zeros(21)], axis=1)[None]     # target exactly 0.5 m ahead
    assert pure_pursuit_curvature(np.array([[0.0, 0.0, 0.3, 5.0]]), path, params) == [0.0]


def test_precomputed_arc_length_gives_the_same_curvature():
    state, path = np.array([[0.0, 0.0, 0.2, 15.0]]), _line(2.0)
    params = PurePursuitParams()
    with_s = pure_pursuit_curvature(state, path, params, s=path_arc_length(path))
    assert pure_pursuit_curvature(state, path, params) == pytest.approx(with_s)


T_S = np.array([0.0, 0.5, 2.0, 5.0])
VALUES = np.array([[0.0, 10.0, 30.0, 60.0], [5.0, 7.0, 1.0, 2.0]])


@pytest.mark.parametrize("t_query, expected", [
    (-1.0, [0.0, 5.0]), (0.25, [5.0, 6.0]), (0.5, [10.0, 7.0]), (1.25, [20.0, 4.0]), (3.5, [45.0, 1.5]),
    (5.0, [60.0, 2.0]), (9.0, [60.0, 2.0])])
def test_reference_is_interpolated_in_time_and_held_at_the_ends(t_query, expected):
    assert reference_at(T_S, VALUES, t_query) == pytest.approx(expected)
