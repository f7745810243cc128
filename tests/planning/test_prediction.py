"""Track predictions: constant velocity on straight lanes and off the map, along the lane on curves."""
import math

import numpy as np
import pytest

import planning.prediction as prediction
from conftest import straight_lane_map
from fusion import Lane, LaneMap, arc_length
from planning.paths import LaneChain
from planning.prediction import TrackPredictor, _is_straight, constant_velocity

R = 30.0                                          # ring radius [m]; 16 lanes of 2 pi R / 16 = 11.78 m


def ring_map(radius_m: float = R, n_lanes: int = 16) -> LaneMap:
    """A counter-clockwise ring around the origin, starting at (radius, 0), cut into lanes."""
    lanes = {}
    for k in range(n_lanes):
        ang = np.linspace(2 * np.pi * k / n_lanes, 2 * np.pi * (k + 1) / n_lanes, 12)
        pts = radius_m * np.stack([np.cos(ang), np.sin(ang)], axis=1)
        lanes[f"r{k}"] = Lane(f"r{k}", f"n{k}", f"n{(k + 1) % n_lanes}", pts, arc_length(pts), 4.0, 20.0,
                              successor_ids=(f"r{(k + 1) % n_lanes}",))
    return LaneMap(lanes)


def _chain(points) -> LaneChain:
    pts = np.asarray(points, float)
    return LaneChain(("a",), pts, arc_length(pts), 4.0, 20.0, True)


@pytest.mark.parametrize("points, straight", [
    ([[5.0, 3.0], [15.0, 3.0]], True),                                # two points: a line
    ([[5.0, 3.0], [15.0, 3.0], [25.0, 3.19], [35.0, 3.0]], True),     # 0.19 m off: within 0.2 m
    ([[5.0, 0.0], [15.0, 0.0], [25.0, 0.2], [35.0, 0.0]], False),     # 0.2 m off is not
    ([[0.0, 0.0], [10.0, 10.0], [20.0, 20.0]], True),                 # straight along a diagonal
    ([[5.0, 3.0], [15.0, 3.0], [20.0, 8.0]], False),                  # three points, bent
    ([[0.0, 0.0], [1.0, 0.1], [100.0, 0.0]], False),                  # judged on its first segment's line
    ([[0.0, 0.0], [0.5, 0.0], [10.0, 0.3]], False),                   # a short first segment still has a unit normal
])
def test_a_chain_is_straight_when_every_point_is_within_20_cm_of_its_first_segment_line(points, straight):
    assert _is_straight(_chain(points)) is straight


def test_tracks_on_straight_lanes_or_off_the_map_keep_their_velocity():
    tracks = np.array([[0.0, -1.0, 20.0, 1.0, 0.05, 5.0, 2.0],      # changing lane on a straight road
                       [50.0, 7.0, 3.0, -4.0, -0.9, 4.0, 1.8],       # on no lane
                       [80.0, 9.0, -2.0, 0.0, 3.1, 4.0, 1.8]])       # on a lane this map does not have
    times = np.array([0.0, 0.5, 2.0])
    out = TrackPredictor().predict(tracks, ["a>b>0", None, "zz"], straight_lane_map(2), times)
    np.testing.assert_allclose(out, constant_velocity(tracks, times))
    np.testing.assert_allclose(out[:2, 2, :2], [[40.0, 1.0], [56.0, -1.0]])


def test_a_track_on_a_curved_lane_follows_it_at_its_speed_and_offset():
    # 1 m inside the ring (left of its direction of travel) at 48 m/s: after t s it is 48 t m along
    # the centre line, at angle 48 t / 30 rad, still 1 m inside. Tracks on no lane keep their velocity.
    tracks = np.array([[0.0, 0.0, 1.0, 0.0, 0.0, 4.0, 1.8], [R - 1.0, 0.0, 0.0, 48.0, math.pi / 2, 4.6, 1.9]])
    times = np.array([0.0, 1.0, 2.0])
    out = TrackPredictor().predict(tracks, [None, "r0"], ring_map(), times)
    np.testing.assert_allclose(out[0], constant_velocity(tracks[:1], times)[0])
    phi = 48.0 * times / R
    np.testing.assert_allclose(out[1, :, :2], (R - 1.0) * np.stack([np.cos(phi), np.sin(phi)], axis=1), atol=0.05)
    heading_error = np.angle(np.exp(1j * (out[1, :, 4] - phi - np.pi / 2)))      # the lane's heading there
    np.testing.assert_allclose(heading_error, 0.0, atol=0.02)
    np.testing.assert_allclose(out[1, :, 2:4], 48.0 * np.stack([np.cos(out[1, :, 4]), np.sin(out[1, :, 4])], axis=1))
    np.testing.assert_array_equal(out[1, :, 5:], [[4.6, 1.9]] * 3)


def test_lane_chains_are_built_once_per_map_and_anew_for_a_new_map(monkeypatch):
    built = []
    monkeypatch.setattr(prediction, "build_chain", lambda *a: built.append(a[1]) or _real_build(*a))
    predictor, track = TrackPredictor(), np.array([[R, 0.0, 0.0, 10.0, math.pi / 2, 4.0, 1.8]])
    times = np.array([0.0, 1.0])
    first = predictor.predict(track, ["r0"], ring_map(), times)
    predictor.predict(track, ["r0"], ring_map_same := ring_map(), times)
    predictor.predict(track, ["r0"], ring_map_same, times)
    assert built == ["r0", "r0"]                                  # one per map object, reused after
    wider = predictor.predict(track * [2, 1, 1, 1, 1, 1, 1], ["r0"], ring_map(2 * R), times)
    assert built == ["r0"] * 3
    assert np.linalg.norm(wider[0, 1, :2]) == pytest.approx(2 * R, abs=0.05)   # the new ring, not the old
    assert np.linalg.norm(first[0, 1, :2]) == pytest.approx(R, abs=0.05)


_real_build = prediction.build_chain
