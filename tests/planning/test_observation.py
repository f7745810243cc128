"""The policy observation on hand-built world models: ordering, normalisation, padding, layout."""
import numpy as np
import pytest
from conftest import make_track, make_world, straight_lane_map

from fusion import Track
from planning.behaviour import BehaviourState
from planning.observation import EGO_FEATURES, TRACK_FEATURES, ObservationConfig, observe

CFG = ObservationConfig(max_tracks=4, range_m=100.0, lateral_range_m=15.0, speed_scale_mps=40.0,
                        rel_speed_scale_mps=20.0, std_scale_m=5.0)
NE = len(EGO_FEATURES)


def rows(obs: np.ndarray) -> np.ndarray:
    return obs[NE:].reshape(CFG.max_tracks, len(TRACK_FEATURES))


def test_ego_features():
    lm = straight_lane_map(3)
    world = make_world(lm, (10.0, -4.5, 20.0), [], "a>b>1", yaw=0.1)
    obs = observe(world, BehaviourState("a>b>0", 24.0), CFG)
    assert obs.shape == (CFG.size,) and obs.dtype == np.float32
    expected = [20 / 40, 24 / 40, 30 / 40, -0.5 / 2.0, 0.1 / (np.pi / 4), 1.0, 1.0, 1.0]
    assert obs[:NE] == pytest.approx(expected, abs=1e-6)
    assert not rows(obs).any()  # no tracks: every row is absent


def test_tracks_nearest_first_with_ties_by_id_and_window():
    lm = straight_lane_map(3)
    tracks = [make_track(7, 40.0, -4.0, 25.0, "a>b>1"),     # 30 m ahead
              make_track(3, -10.0, -4.0, 15.0, "a>b>1"),    # 20 m behind
              make_track(2, 30.0, -4.0, 20.0, "a>b>1"),     # 20 m ahead, tie with id 3 -> first
              make_track(9, 150.0, -4.0, 20.0, "a>b>1"),    # outside the 100 m window
              make_track(5, 10.0, 0.0, 20.0, "a>b>0")]      # beside, one lane left
    world = make_world(lm, (10.0, -4.0, 20.0), tracks, "a>b>1")
    r = rows(observe(world, None, CFG))
    assert r[:, 0].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert r[:, 1] * 100 == pytest.approx([0.0, 20.0, -20.0, 30.0])  # ids 5, 2, 3, 7
    assert r[0, 2] * 15 == pytest.approx(4.0) and r[0, 7] == pytest.approx(0.5)  # left lane -> +1 / 2
    assert r[2, 3] * 20 == pytest.approx(-5.0)  # relative speed of the 15 m/s car
    assert r[1, 5] * 5 == pytest.approx(0.1)  # position std from the 0.01 m^2 covariance


def test_uncertainty_rotates_into_the_ego_frame_and_values_are_clipped():
    lm = straight_lane_map(3)
    cov = np.diag([4.0, 0.25, 1.0, 1.0])
    far_fast = Track(1, 0.0, 56.0, 0.0, 80.0, np.pi / 2, 5.0, 2.0, cov, "a>b>1")  # 60 m ahead of the ego
    world = make_world(lm, (0.0, -4.0, 20.0), [far_fast], "a>b>1", yaw=np.pi / 2)
    r = rows(observe(world, None, CFG))
    # ego faces +y: map x becomes ego -y, so the 2 m std along map x is the ego-frame y std
    assert r[0, 1] == pytest.approx(0.6)
    assert r[0, 5] * 5 == pytest.approx(0.5) and r[0, 6] * 5 == pytest.approx(2.0)
    assert r[0, 3] == 1.0  # 60 m/s closing speed / 20 m/s scale, clipped
    assert np.all(np.abs(r) <= 1.0)


def test_layout_id_changes_with_anything_that_moves_an_index():
    assert ObservationConfig().layout_id != ObservationConfig(max_tracks=6).layout_id
    assert ObservationConfig().layout_id != ObservationConfig(range_m=80.0).layout_id
    assert ObservationConfig().size == NE + 8 * len(TRACK_FEATURES)
