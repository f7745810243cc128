"""Multi-object tracker: filter convergence, sensor weighting, association, track life, lanes."""
import math
from dataclasses import replace

import numpy as np
import pytest
from conftest import straight_lane_map

from fusion.ego_odometry import OdometryNoise, noisy_ego
from fusion.sensor_model import SensorModel
from fusion.tracker import (
    MultiObjectTracker,
    TrackerConfig,
    gated_assignment,
    resolve_pi_ambiguity,
)
from fusion.types import EgoState
from perception.detections import Detections
from tracker_helpers import DT, INSTANT, detections, ego_at, only_track


@pytest.mark.parametrize("ego_speed, ego_yaw_rate", [(0.0, 0.0), (15.0, 0.0), (15.0, 0.3)])
def test_filter_converges_on_constant_velocity_target(ego_speed, ego_yaw_rate):
    # A constant-velocity target justifies low process noise; the ego may drive and turn under it.
    rng = np.random.default_rng(1)
    tracker = MultiObjectTracker(TrackerConfig(accel_along_std_mps2=0.5, accel_across_std_mps2=0.5))
    velocity = np.array([20.0, 1.0])
    for k in range(31):
        t = k * DT
        ego = ego_at(t, ego_speed, ego_yaw_rate)
        truth = np.array([20.0, 3.0]) + velocity * t
        batch = detections(t, ego, truth, yaw_map=0.05)
        batch.center_m[:, :2] += rng.normal(0.0, 0.15, (1, 2))
        tracker.update([batch], ego)
    track = only_track(tracker)
    assert math.hypot(track.x_m - truth[0], track.y_m - truth[1]) < 0.3
    assert math.hypot(track.vx_mps - velocity[0], track.vy_mps - velocity[1]) < 0.3
    assert abs(track.yaw_rad - 0.05) < 0.05
    assert track.status == "confirmed" and track.covariance.shape == (4, 4)


def test_sensor_floor_lowers_the_weight_of_a_source():
    config = TrackerConfig(output_existence=0.0, sensors=(SensorModel("lidar", 0.0), SensorModel("noisy", 4.0)))
    assert config.sensor("noisy").floor_m2 == 4.0
    assert config.sensor("unknown").floor_m2 == config.default_sensor.floor_m2
    shifts = {}
    for source in ("lidar", "noisy"):
        tracker = MultiObjectTracker(config)
        ego = EgoState(0.0, 0.0, 0.0, 0.0, 0.0)
        tracker.update([detections(0.0, ego, [20.0, 0.0])], ego)
        ego1 = EgoState(DT, 0.0, 0.0, 0.0, 0.0)
        tracker.update([detections(DT, ego1, [21.0, 0.0], source=source)], ego1)
        shifts[source] = only_track(tracker).x_m - 20.0
    assert shifts["noisy"] < 0.5 * shifts["lidar"]


def test_ids_hold_through_crossing_targets_with_shuffled_detections():
    rng = np.random.default_rng(3)
    tracker = MultiObjectTracker()
    seen: dict[int, set[int]] = {}
    for k in range(41):
        t = k * DT
        ego = ego_at(t, 15.0)
        truth = np.array([[25.0 + 18.0 * t, 3.5 - 1.75 * t],   # left lane -> right lane
                          [28.0 + 18.0 * t, -3.5 + 1.75 * t]])  # right lane -> left lane, crossing at t = 2 s
        noisy = truth + rng.normal(0.0, 0.3, truth.shape)
        tracker.update([detections(t, ego, noisy[rng.permutation(2)], 0.3 ** 2 * np.eye(2))], ego)
        tracks = tracker.tracks()
        if k >= 5:
            assert len(tracks) == 2
        for track in tracks:
            nearest = int(np.argmin(np.hypot(*(truth - [track.x_m, track.y_m]).T)))
            seen.setdefault(track.track_id, set()).add(nearest)
    assert len(seen) == 2 and all(len(targets) == 1 for targets in seen.values())


def test_assignment_is_global_and_rejects_gated_pairs():
    # Detection 0 is nearest track 0, but the total is lower giving it to track 1 (cost 3 + 2 < 1 + 100).
    cost = np.array([[1.0, 2.0], [3.0, 100.0]])
    pairs, unmatched = gated_assignment(cost, np.ones_like(cost, bool))
    assert sorted(pairs) == [(0, 1), (1, 0)] and unmatched == []
    # Outside the gate a pair is never made, even when the solver had to use it.
    pairs, unmatched = gated_assignment(cost, np.array([[True, False], [False, False]]))
    assert pairs == [(0, 0)] and unmatched == [1]
    assert gated_assignment(np.zeros((0, 3)), np.zeros((0, 3), bool)) == ([], [0, 1, 2])


@pytest.mark.parametrize("score", [0.45, 0.6])
def test_single_uncertain_false_positive_is_never_output(score):
    tracker = MultiObjectTracker()
    ids = set()
    for k in range(20):
        t = k * DT
        ego = ego_at(t, 10.0)
        batch = detections(t, ego, [[30.0 + 10.0 * t, 0.0]])
        clutter = detections(t, ego, [[ego.x_m + 15.0, 6.0]], score=score)
        tracker.update([batch if k != 5 else _concat(batch, clutter)], ego)
        ids |= {track.track_id for track in tracker.tracks()}
    assert ids == {1}


def test_a_confident_lidar_false_positive_dies_on_the_next_misses():
    tracker = MultiObjectTracker()
    alive = []
    for k in range(10):
        t = k * DT
        ego = ego_at(t, 10.0)
        points = [[30.0 + 10.0 * t, 0.0]] + ([[ego.x_m + 15.0, 6.0]] if k == 2 else [])
        tracker.update([detections(t, ego, points)], ego)
        alive.append(len(tracker.tracks()))
    assert alive[2] == 2 and alive[-1] == 1 and alive.index(1, 3) <= 6  # gone within 0.4 s of lidar misses


def _concat(a: Detections, b: Detections) -> Detections:
    return Detections(a.stamp, a.source, *(np.concatenate([getattr(a, f), getattr(b, f)]) for f in
                                            ("center_m", "size_m", "yaw_rad", "score", "covariance_m2")))


@pytest.mark.parametrize("offset, expected_tracks", [([0.6, 0.0], 1), ([0.0, 4.0], 2)])
def test_duplicate_detection_of_a_tracked_car_starts_no_twin(offset, expected_tracks):
    # A split cluster 0.6 m behind the car is the same car; a car in the next lane is another one.
    tracker = MultiObjectTracker()
    for k in range(20):
        t = k * DT
        ego = ego_at(t, 10.0)
        car = np.array([30.0 + 12.0 * t, -0.2])
        tracker.update([detections(t, ego, [car, car + offset])], ego)
    assert len(tracker.tracks()) == expected_tracks


def test_detections_under_the_sources_birth_score_never_start_a_track():
    lidar = SensorModel("lidar", birth_score=0.3, score_trust=10.0)  # a 0.29 hit would still raise existence
    tracker = MultiObjectTracker(TrackerConfig(sensors=(lidar,)))
    for k in range(10):
        ego = ego_at(k * DT, 10.0)
        tracker.update([detections(k * DT, ego, [30.0 + k, 0.0], score=0.29)], ego)
    assert tracker.tracks() == ()


def test_detections_under_the_sources_floor_are_ignored():
    # Under ``min_score`` a detection is not even a hit: the track dies of lidar misses as if it were not there.
    lidar = SensorModel("lidar", min_score=0.2, birth_score=0.3, score_trust=10.0)  # 0.19 would be a hit
    tracker = MultiObjectTracker(TrackerConfig(sensors=(lidar,), unconfirmed_frames=100))
    for k in range(30):
        t, ego = k * DT, ego_at(k * DT, 10.0)
        tracker.update([detections(t, ego, [30.0 + 12.0 * t, 0.0], score=0.9 if k < 10 else 0.19)], ego)
    assert tracker.tracks() == ()


@pytest.mark.parametrize("gap_m, expected_tracks", [(3.0, 1), (10.0, 2)])
def test_weak_detection_starts_a_track_only_clear_of_other_tracks(gap_m, expected_tracks):
    # A weak return 3 m off a tracked car is that car, poorly placed; 10 m off it is another car (output
    # until weak detections alone have carried it for ``unconfirmed_frames``).
    lidar = SensorModel("lidar", birth_score=0.3, score_trust=10.0)  # a 0.4 detection: odds x 6.7
    tracker = MultiObjectTracker(TrackerConfig(sensors=(lidar,)))
    for k in range(8):
        t, ego = k * DT, ego_at(k * DT, 10.0)
        car = np.array([30.0 + 12.0 * t, 0.0])
        batch = detections(t, ego, [car, car + [gap_m, 3.5]])
        tracker.update([replace(batch, score=np.array([1.0, 0.4]))], ego)
    assert len(tracker.tracks()) == expected_tracks


def test_a_coasting_track_is_withheld_once_its_position_is_too_uncertain():
    config = TrackerConfig(output_coast_s=5.0, max_coast_s=5.0, output_coast_var_m2=1.0)
    tracker = MultiObjectTracker(config)
    for k in range(10):
        t, ego = k * DT, ego_at(k * DT, 10.0)
        tracker.update([detections(t, ego, [[30.0 + 12.0 * t, 0.0]])], ego)
    shown = []
    for k in range(10, 40):  # the lidar delivers no frame: no misses, only a growing covariance
        t = k * DT
        tracker.update([], ego_at(t, 10.0))
        shown.append(len(tracker.tracks()))
    assert shown[0] == 1 and shown[-1] == 0
    assert np.sqrt(np.max(np.linalg.eigvalsh(tracker._t.P[0, :2, :2]))) > 1.0


def test_a_box_scores_its_existence_times_its_detection_and_ranks_below_once_it_coasts():
    """The box confidence: existence x the updating detection's score (the best of a tick's batches),
    existence x ``coast_score`` while only predicted."""
    tracker = MultiObjectTracker(replace(INSTANT, coast_score=0.01))
    for k in range(5):
        t, ego = k * DT, ego_at(k * DT)
        tracker.update([detections(t, ego, [30.0 + 15.0 * t, 0.0], score=0.9),
                        detections(t, ego, [30.0 + 15.0 * t, 0.0], source="camera", score=0.6)], ego)
    detected = only_track(tracker)
    assert detected.score == pytest.approx(0.9 * detected.existence_prob)
    tracker.update([], ego_at(5 * DT))
    coasting = only_track(tracker)
    assert coasting.status == "coasting"
    assert coasting.score == pytest.approx(0.01 * coasting.existence_prob)
    assert coasting.score < 0.05 < detected.score


def _track_then_drop(dropout_s, total_s, empty_frames=True):
    """One target at 20 m/s, detected for 2 s, missed for ``dropout_s``, then detected again. During
    the dropout the lidar delivers no frame, or (``empty_frames``) every other frame is empty: a miss."""
    tracker = MultiObjectTracker()
    history = []
    for k in range(round(total_s / DT) + 1):
        t = k * DT
        ego = ego_at(t, 15.0)
        dropped = 2.0 - 1e-9 < t < 2.0 + dropout_s - 1e-9
        if dropped:
            batches = [] if k % 2 or not empty_frames else [Detections.empty(t, "lidar")]
        else:
            batches = [detections(t, ego, [20.0 + 20.0 * t, 0.0])]
        tracker.update(batches, ego)
        history.append((t, dropped, [(tr.track_id, tr.status) for tr in tracker.tracks()]))
    return history


def test_coasting_keeps_the_same_id_through_a_short_sensor_dropout():
    history = _track_then_drop(0.5, 3.5, empty_frames=False)
    for t, dropped, tracks in history[3:]:
        assert tracks == [(1, "coasting" if dropped else "confirmed")], t


def test_long_dropout_deletes_the_track_and_a_new_id_follows():
    history = _track_then_drop(3.0, 6.0)
    for t, dropped, tracks in history:
        if dropped and t < 2.15:
            assert tracks == [(1, "coasting")], t
        elif dropped and t > 2.0 - DT + 1.5 + 1e-6:
            assert tracks == [], t
    assert history[-1][2] == [(2, "confirmed")]


def test_yaw_pi_ambiguity_is_resolved_by_the_velocity_heading():
    rng = np.random.default_rng(5)
    tracker = MultiObjectTracker()
    heading = 0.1
    for k in range(20):
        t = k * DT
        ego = ego_at(t, 15.0)
        xy = np.array([30.0, 0.0]) + 20.0 * t * np.array([math.cos(heading), math.sin(heading)])
        flipped = heading + math.pi * rng.integers(0, 2) + rng.normal(0.0, 0.05)
        tracker.update([detections(t, ego, xy, yaw_map=flipped)], ego)
    assert abs(only_track(tracker).yaw_rad - heading) < 0.1
    assert resolve_pi_ambiguity(3.0, 0.0) == pytest.approx(3.0 - math.pi)
    assert resolve_pi_ambiguity(-0.2, 0.0) == pytest.approx(-0.2)


def test_tracks_are_placed_on_lanes():
    lane_map = straight_lane_map(n_lanes=3, width_m=4.0)  # lane i centred on y = -4 i
    tracker = MultiObjectTracker()
    for k in range(5):
        t = k * DT
        ego = ego_at(t, 20.0)
        tracker.update([detections(t, ego, [[40.0 + 20.0 * t, -4.5], [50.0 + 20.0 * t, 7.0]])], ego)
    tracks = sorted(tracker.tracks(lane_map), key=lambda tr: tr.y_m)
    assert [tr.lane_id for tr in tracks] == ["a>b>1", None]
    assert tracks[0].lane_offset_m == pytest.approx(-0.5, abs=0.1)
    assert all(tr.lane_id is None for tr in tracker.tracks())  # no map given


def test_noisy_ego_adds_gaussian_noise_of_the_given_size():
    ego = EgoState(1.0, 10.0, -2.0, 3.1, 12.0, yaw_rate_radps=0.2)
    assert OdometryNoise().apply(ego, np.random.default_rng(0)) == ego
    rng = np.random.default_rng(0)
    samples = [noisy_ego(ego, rng, 0.5, 0.02, 0.3) for _ in range(2000)]
    assert np.std([s.x_m for s in samples]) == pytest.approx(0.5, rel=0.1)
    assert np.std([s.speed_mps for s in samples]) == pytest.approx(0.3, rel=0.1)
    yaw_err = [math.remainder(s.yaw_rad - ego.yaw_rad, 2 * math.pi) for s in samples]
    assert np.std(yaw_err) == pytest.approx(0.02, rel=0.1)
    assert all(-math.pi <= s.yaw_rad < math.pi for s in samples)
    assert all(s.yaw_rate_radps == 0.2 and s.stamp == 1.0 for s in samples)


def test_an_improbable_innovation_inflates_the_covariance_so_the_track_follows():
    # A parked target jumps 0.45 m sideways (as it does in the frame of a turning camera): d^2 lands
    # between the inflation threshold and the gate.
    after_jump = {}
    for inflate in (9.21, 1e9):
        tracker = MultiObjectTracker(TrackerConfig(inflate_chi2=inflate, overlap_gate_giou=1.1))
        ys = []
        for k in range(13):
            t = k * DT
            ego = EgoState(t, 0.0, 0.0, 0.0, 0.0)
            tracker.update([detections(t, ego, [[20.0, 0.0 if k < 10 else 0.45]])], ego)
            ys.append(only_track(tracker).y_m)
        after_jump[inflate] = np.array(ys[10:])
    assert np.all(after_jump[9.21] > after_jump[1e9] + 0.015)  # closer to the new position at every step


def test_box_overlap_associates_a_detection_outside_the_gate():
    tiny_gate = TrackerConfig(gate_chi2=0.5, spawn_exclusion_chi2=0.5)  # a 1 m jump is far outside: only the overlap can match
    for config, updated in ((tiny_gate, True), (replace(tiny_gate, overlap_gate_giou=1.1), False)):
        tracker = MultiObjectTracker(config)
        for k in range(5):
            t = k * DT
            ego = EgoState(t, 0.0, 0.0, 0.0, 0.0)
            tracker.update([detections(t, ego, [[20.0 + (1.0 if k >= 3 else 0.0), 0.0]])], ego)
        track = only_track(tracker)  # the overlapping detection never starts a twin
        assert (track.status == "confirmed" and track.x_m > 20.5) == updated


def test_tracks_carry_existence_height_and_the_nis_of_their_updates():
    tracker = MultiObjectTracker()
    tracker.nis_log = []
    for k in range(5):
        ego = ego_at(k * DT, 10.0)
        tracker.update([detections(k * DT, ego, [[ego.x_m + 20.0, 0.0]])], ego)
    track = only_track(tracker)
    assert track.existence_prob > 0.99 and track.height_m == 1.5 and track.z_m == 0.0
    assert [s for s, _, _ in tracker.nis_log] == ["lidar"] * 4 and all(abs(r - 20.0) < 0.5 for _, r, _ in tracker.nis_log)


def test_presets_keep_explicit_settings():
    from fusion.tracker import PRESETS, with_preset

    assert with_preset("sensor_frame") == PRESETS["sensor_frame"]
    mixed = with_preset("sensor_frame", TrackerConfig(gate_chi2=9.0))
    assert mixed.gate_chi2 == 9.0 and mixed.accel_along_std_mps2 == PRESETS["sensor_frame"].accel_along_std_mps2
    with pytest.raises(ValueError, match="unknown tracker preset 'nope'; valid: ego_motion, sensor_frame"):
        with_preset("nope")


def test_weak_detections_carry_a_confirmed_car_as_it_disappears_behind_another():
    # Confidently seen for 1 s, then only weak returns (half hidden) for 2 s: still output all along.
    tracker = MultiObjectTracker(TrackerConfig(unconfirmed_frames=5))
    shown = []
    for k in range(30):
        t, ego = k * DT, ego_at(k * DT, 10.0)
        tracker.update([detections(t, ego, [[30.0 + 12.0 * t, 0.0]], score=1.0 if k < 10 else 0.3)], ego)
        shown.append(len(tracker.tracks()))
    assert shown[5:] == [1] * 25


def test_a_car_in_the_next_lane_does_not_join_a_settled_track():
    # A parked ego watches a parked car until its track is settled; then a detection arrives 3.6 m
    # beside it (a car in the next lane: outside the gate, d^2 about 60 against 13.8, but inside ten
    # gates). It must start its own track and leave the settled one where it was.
    tracker = MultiObjectTracker(INSTANT)
    ego = EgoState(0.0, 0.0, 0.0, 0.0, 0.0)
    car = np.array([30.0, 0.0])
    for k in range(30):
        tracker.update([detections(k * DT, EgoState(k * DT, 0.0, 0.0, 0.0, 0.0), car)], ego)
    settled = only_track(tracker)
    t = 30 * DT
    coarse = np.eye(2) * 1.0  # a coarse return (1 m std as reported; the sensor model weighs it in)
    tracker.update([detections(t, EgoState(t, 0.0, 0.0, 0.0, 0.0), car + [0.0, 3.6], cov_ego=coarse)], ego)
    tracks = tracker.tracks()
    assert len(tracks) == 2
    kept = min(tracks, key=lambda tr: abs(tr.y_m))
    assert kept.track_id == settled.track_id and abs(kept.y_m - settled.y_m) < 0.01


def test_global_assignment_solves_a_cyclic_and_a_non_square_case():
    cyclic = np.array([[5.0, 1.0, 9.0], [9.0, 5.0, 1.0], [1.0, 9.0, 5.0]])   # greedy row order would fail
    pairs, unmatched = gated_assignment(cyclic, np.ones((3, 3), bool))
    assert sorted(pairs) == [(0, 1), (1, 2), (2, 0)] and unmatched == []
    wide = np.array([[4.0, 1.0, 2.0], [1.0, 3.0, 9.0]])                      # 2 tracks, 3 detections
    feasible = np.array([[True, True, True], [True, True, False]])
    pairs, unmatched = gated_assignment(wide, feasible)
    assert sorted(pairs) == [(0, 1), (1, 0)] and unmatched == [2]


def test_a_new_track_starts_at_the_ego_velocity():
    tracker = MultiObjectTracker(INSTANT)
    ego = EgoState(0.0, 0.0, 0.0, 0.5, 20.0)  # heading 0.5 rad at 20 m/s
    tracker.update([detections(0.0, ego, [30.0, 5.0])], ego)
    t = only_track(tracker)
    assert (t.vx_mps, t.vy_mps) == pytest.approx((20.0 * math.cos(0.5), 20.0 * math.sin(0.5)))


