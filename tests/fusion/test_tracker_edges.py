"""Tracker edge cases with hand-computed expectations: gate and exclusion boundaries, the Kalman and
existence arithmetic of one update, the output policy's limits, and which sensor pose judges a miss.

Most cases use a "unit" source (no covariance floor, covariance taken as reported) and an ego standing
at the map origin, so map and ego frames coincide and every expected number follows from the formulas
in the module docstrings.
"""
import math
from dataclasses import replace

import numpy as np
import pytest

from fusion.sensor_model import CAMERA, LIDAR, SensorModel
from fusion.tracker import MultiObjectTracker, TrackerConfig, _largest_var
from fusion.types import EgoState
from perception.detections import Detections

UNIT = SensorModel("unit", floor_m2=0.0, noise_scale=1.0, range_edges_m=(0.0, 100.0), p_detect=(0.9,),
                   birth_prior=0.5, birth_score=0.3, score_trust=1.0, max_hit_ratio=100.0)
EGO = EgoState(0.0, 0.0, 0.0, 0.0, 0.0)
LOOSE = dict(output_existence=0.0, delete_existence=0.0, output_coast_var_m2=1e6, max_position_var_m2=1e6)


def _config(sensor=UNIT, **kw) -> TrackerConfig:
    return TrackerConfig(sensors=(sensor, LIDAR, CAMERA), **kw)


def _batch(xy, cov=1.0, score=1.0, source="unit", stamp=0.0, size=(4.5, 1.9, 1.5), yaw=0.0, z=0.0):
    """Detections at ego-frame points (N, 2) with isotropic covariance ``cov`` [m^2]."""
    xy = np.atleast_2d(np.asarray(xy, float))
    n = len(xy)
    center = np.column_stack([xy, np.broadcast_to(z, (n,))])
    cov = np.broadcast_to(np.asarray(cov, float), (n,))
    return Detections(stamp, source, center, np.tile(np.asarray(size, float), (n, 1)).reshape(n, 3),
                      np.broadcast_to(np.asarray(yaw, float), (n,)).copy(),
                      np.broadcast_to(np.asarray(score, float), (n,)).copy(),
                      cov[:, None, None] * np.eye(2)[None])


def _tracker(*batches, config=None, ego=EGO) -> MultiObjectTracker:
    tracker = MultiObjectTracker(config or _config(**LOOSE))
    for batch in batches:
        tracker.update(batch, ego)
    return tracker


def _odds_hit(r, gain):
    return r * gain / (r * gain + 1.0 - r)


# -- helpers ------------------------------------------------------------------------------------------
def test_largest_position_variance_is_the_largest_eigenvalue_of_the_position_block():
    P = np.array([[4.0, 1.5, 0.7, 0.2], [1.5, 1.0, 0.3, 0.9], [0.7, 0.3, 9.0, 0.4], [0.2, 0.9, 0.4, 8.0]])
    expected = np.linalg.eigvalsh(P[:2, :2])[-1]
    assert _largest_var(np.stack([P, np.diag([2.0, 3.0, 1.0, 1.0])])) == pytest.approx([expected, 3.0])


@pytest.mark.parametrize("v, var, moving", [
    ((3.0, 0.5), (0.5, 0.3), True),    # clearly moving: heading is the velocity's
    ((1.0, 0.0), (1e-4, 1e-4), False),  # at the speed threshold exactly: not moving
    ((2.0, 0.0), (1.2, 0.8), False),   # speed^2 exactly 4 x its variance: not moving
    ((3.0, 0.0), (2.0, 2.0), True),    # speed^2 = 9 > 4 x 2: moving
])
def test_heading_comes_from_the_velocity_only_when_it_is_fast_and_certain(v, var, moving):
    from fusion.kernels import headings
    X = np.array([[0.0, 0.0, *v]])
    P = np.diag([1.0, 1.0, *var])[None]
    heading, is_moving = headings(X, P, np.array([2.5]), MultiObjectTracker().config.heading_min_speed_mps)
    assert bool(is_moving[0]) is moving
    assert heading[0] == pytest.approx(math.atan2(v[1], v[0]) if moving else 2.5)


def test_process_noise_grows_the_covariance_most_along_the_direction_of_travel():
    config = _config(accel_along_std_mps2=5.0, accel_across_std_mps2=0.5, init_speed_std_mps=0.1, **LOOSE)
    tracker = MultiObjectTracker(config)
    ego = EgoState(0.0, 0.0, 0.0, 0.0, 10.0)  # the track starts at the ego's velocity: 10 m/s along +x
    tracker.update(_batch([20.0, 0.0], cov=0.01), ego)
    before = tracker.tracks()[0].covariance
    tracker.update([], replace(ego, stamp=0.5))
    growth = np.diag(tracker.tracks()[0].covariance - before)
    assert growth[0] > 20.0 * growth[1]


# -- update() -------------------------------------------------------------------------------------
def test_update_predicts_to_the_given_stamp_and_takes_a_single_batch():
    tracker = MultiObjectTracker(_config(**LOOSE))
    tracker.update(_batch([20.0, 0.0]), EGO, stamp=0.2)
    assert tracker.time_s == pytest.approx(0.2)
    assert len(tracker.tracks()) == 1


# -- birth and exclusion --------------------------------------------------------------------------
def test_a_new_track_has_the_detection_covariance_the_initial_speed_spread_its_box_and_a_clipped_prior():
    sensor = replace(UNIT, birth_prior=1.0)
    tracker = _tracker(_batch([20.0, 5.0], cov=2.0, size=(4.0, 1.8, 1.4), z=0.7),
                       config=_config(sensor, init_speed_std_mps=3.0, **LOOSE))
    (track,) = tracker.tracks()
    assert track.covariance == pytest.approx(np.diag([2.0, 2.0, 9.0, 9.0]))
    assert (track.length_m, track.width_m, track.z_m) == pytest.approx((4.0, 1.8, 0.7))
    assert track.existence_prob == pytest.approx(1.0 - 1e-6)
    assert track.lane_id is None and track.lane_offset_m == 0.0


def test_a_birth_prior_of_zero_still_gives_a_track_that_evidence_can_raise():
    tracker = _tracker(_batch([20.0, 0.0]), config=_config(replace(UNIT, birth_prior=0.0), **LOOSE))
    assert tracker.tracks()[0].existence_prob == pytest.approx(1e-6)


def test_a_detection_scoring_exactly_the_birth_score_starts_a_track_scored_by_it():
    (track,) = _tracker(_batch([20.0, 0.0], score=0.3)).tracks()
    assert track.existence_prob == pytest.approx(0.15) and track.score == pytest.approx(0.15 * 0.3)


@pytest.mark.parametrize("score, expected_tracks", [(0.5, 2), (0.49, 1)])
def test_a_detection_scoring_exactly_min_spawn_score_is_confident(score, expected_tracks):
    # 5 m beside a track, far outside its gate and box: confident detections start a track there,
    # weak ones (closer than weak_birth_clearance_m) do not.
    tracker = _tracker(_batch([20.0, 0.0], cov=0.01), _batch([20.0, 5.0], cov=0.01, score=score))
    assert len(tracker.tracks()) == expected_tracks


def test_exclusion_and_duplicates_use_d2_strictly_below_the_threshold():
    # d^2 = 10^2 / (2 + 2) = 25 = spawn_exclusion_chi2: not "within", so both detections start tracks.
    config = _config(gate_chi2=1.0, **LOOSE)
    assert len(_tracker(_batch([[20.0, 0.0], [20.0, 10.0]], cov=2.0), config=config).tracks()) == 2
    assert len(_tracker(_batch([20.0, 0.0], cov=2.0), _batch([20.0, 10.0], cov=2.0), config=config).tracks()) == 2


def test_an_unmatched_detection_inside_the_exclusion_d2_but_outside_the_gate_starts_no_track():
    # d^2 = 6^2 / (4 + 4) = 4.5: outside a gate of 1, inside the exclusion of 25, boxes 6 m apart.
    config = _config(gate_chi2=1.0, **LOOSE)
    tracker = _tracker(_batch([20.0, 0.0], cov=4.0), _batch([20.0, 6.0], cov=4.0), config=config)
    assert len(tracker.tracks()) == 1


def test_a_detection_exactly_on_the_gate_is_associated():
    # d^2 = 10^2 / (2 + 2) = 25 = gate: associated (a weak one: no inflation), the track moves halfway.
    config = _config(gate_chi2=25.0, **LOOSE)
    tracker = _tracker(_batch([20.0, 0.0], cov=2.0), _batch([20.0, 10.0], cov=2.0, score=0.4), config=config)
    (track,) = tracker.tracks()
    assert track.y_m == pytest.approx(5.0)


def test_touching_boxes_do_not_overlap():
    # Side by side, 1.9 m apart (the width): no overlap, which neither associates nor excludes a birth.
    tracker = _tracker(_batch([20.0, 0.0], cov=1e-4), _batch([20.0, 1.9], cov=1e-4))
    assert len(tracker.tracks()) == 2


def test_a_second_box_on_a_tracked_car_starts_no_track_even_when_its_generalised_iou_is_negative():
    # A lidar's second box 2.8 m ahead on the same car, 13 degrees off the track's heading: the boxes
    # overlap (IoU 0.24) but the generalised IoU, with its enclosing box along the track's axes, is
    # below 0, which the birth test once took for "apart" (a phantom track a car's length ahead).
    from fusion.kernels import overlap_matrix
    iou, giou = overlap_matrix(np.array([[20.0, 0.0]]), np.array([[4.97, 1.99]]), np.array([-0.13]),
                            np.array([[22.8, 0.2]]), np.array([[5.0, 2.0]]), np.array([0.1]))
    assert iou[0, 0] > 0.2 and giou[0, 0] < 0.0
    config = _config(gate_chi2=1.0, spawn_exclusion_chi2=1.0, **LOOSE)
    tracker = _tracker(_batch([20.0, 0.0], cov=0.01, yaw=-0.13), config=config)
    tracker.update(_batch([[20.0, 0.0], [22.8, 0.2]], cov=0.01, yaw=[-0.13, 0.1], score=[1.0, 0.6]), EGO)
    assert len(tracker.tracks()) == 1


def test_a_weak_detection_exactly_the_clearance_away_starts_a_track():
    # weak_birth_clearance_m = 6: "within" is strictly closer.
    tracker = _tracker(_batch([[20.0, 0.0], [20.0, 6.0]], cov=1e-4, score=[1.0, 0.4]))
    assert len(tracker.tracks()) == 2


# -- association cost -----------------------------------------------------------------------------
def test_of_two_equally_distant_tracks_the_one_whose_box_overlaps_the_detection_takes_it():
    wide, narrow = _batch([20.0, -1.5], cov=0.01), _batch([20.0, 1.5], cov=0.01, size=(2.0, 1.0, 1.5))
    tracker = _tracker(Detections(0.0, "unit", *(np.concatenate([getattr(wide, f), getattr(narrow, f)])
                                                for f in ("center_m", "size_m", "yaw_rad", "score", "covariance_m2"))))
    tracker.update(_batch([20.0, 0.0], cov=4.0), EGO)
    status = {round(t.width_m, 1): t.status for t in tracker.tracks()}
    assert status == {1.9: "confirmed", 1.0: "coasting"}


def test_the_cost_prefers_the_likelier_pair_counting_the_innovation_volume():
    # A detection (variance 1) between a precise track 3 m away (variance 0.01) and a vague one 9 m away
    # (variance 9): d^2 alone (8.9 vs 8.1) and the box term (2.4 vs 3.3) nearly tie; ln det S (0.02 vs
    # 4.6) decides for the precise one.
    config = _config(spawn_exclusion_chi2=5.0, **LOOSE)
    tracker = _tracker(_batch([20.0, -3.0], cov=0.01), _batch([20.0, 9.0], cov=9.0), config=config)
    assert len(tracker.tracks()) == 2
    tracker.update(_batch([20.0, 0.0], cov=1.0), EGO)
    near = min(tracker.tracks(), key=lambda t: abs(t.y_m + 3.0))
    assert near.status == "confirmed"


# -- correction -----------------------------------------------------------------------------------
def _corrected(second: Detections, sensor=UNIT, **kw):
    """The track born from a unit-variance detection at (20, 0), corrected by ``second`` at the same stamp."""
    tracker = _tracker(_batch([20.0, 0.0], cov=1.0, source=sensor.source), second, config=_config(sensor, **kw, **LOOSE))
    (track,) = tracker.tracks()
    return track


@pytest.mark.parametrize("score", [1.0, 0.4])
def test_a_probable_or_a_weak_detection_gets_the_plain_kalman_gain(score):
    # Prior variance 1, detection variance 1: the estimate moves halfway and its variance halves.
    track = _corrected(_batch([20.0, 1.0], score=score))
    assert track.y_m == pytest.approx(0.5) and track.covariance[1, 1] == pytest.approx(0.5)


def test_a_source_with_correlated_errors_updates_as_if_its_variance_were_inflated_along_and_across_the_ray():
    # rho 0.5 along (the x axis here: the car is dead ahead), 0 across, a window of 2 frames: the mean of
    # two errors has variance (1 + rho) / 2 instead of 1 / 2, so the factor is 1.5 along, 1 across.
    # Prior 1, detection 1 (x1.5 along): gain 1/2.5 along, 1/2 across.
    flat = replace(UNIT, source="flat", error_correlation=(0.5, 0.0), correlation_window_frames=2)
    assert flat.update_inflation == pytest.approx((1.5, 1.0))
    camera_like = replace(flat, error_correlation=(0.69, 0.81), correlation_window_frames=10)
    assert camera_like.update_inflation == pytest.approx((4.05, 5.58), abs=0.01)
    track = _corrected(_batch([25.0, 0.0], source="flat"), sensor=flat, inflate_chi2=1e9)
    assert track.x_m == pytest.approx(22.0) and track.covariance[0, 0] == pytest.approx(0.6)
    assert track.y_m == pytest.approx(0.0) and track.covariance[1, 1] == pytest.approx(0.5)


def test_a_probable_detection_from_a_non_inflating_source_gets_the_plain_kalman_gain():
    track = _corrected(_batch([20.0, 1.0], source="flat"), sensor=replace(UNIT, source="flat", inflates=False))
    assert track.y_m == pytest.approx(0.5) and track.covariance[1, 1] == pytest.approx(0.5)


def test_an_improbable_confident_detection_inflates_the_prior_until_its_d2_is_inflate_chi2():
    # v = 5 m, R = 1: the prior variance is scaled by lam with 25 / (lam + 1) = 9.21, lam = 1.71
    # (the fixed point, reached within a few per cent); the posterior variance is lam / (lam + 1).
    lam = 25.0 / 9.21 - 1.0
    track = _corrected(_batch([20.0, 5.0]))
    assert track.covariance[1, 1] == pytest.approx(lam / (lam + 1.0), abs=0.01)
    assert track.y_m == pytest.approx(5.0 * lam / (lam + 1.0), abs=0.05)


def test_in_one_batch_only_the_improbable_detection_inflates_its_track():
    config = _config(**LOOSE)
    tracker = _tracker(_batch([[20.0, 0.0], [20.0, 20.0]]), config=config)
    tracker.update(_batch([[20.0, 5.0], [20.0, 21.0]]), EGO)  # d^2 12.5 (inflates) and 0.5 (does not)
    plain = max(tracker.tracks(), key=lambda t: t.y_m)
    assert plain.y_m == pytest.approx(20.5) and plain.covariance[1, 1] == pytest.approx(0.5)


def test_inflation_stops_at_max_inflation():
    track = _corrected(_batch([20.0, 5.0]), max_inflation=1.2)  # lam would be 1.71
    assert track.covariance[1, 1] == pytest.approx(1.2 / 2.2)


def test_yaw_size_and_height_move_by_the_gain_towards_the_detection():
    sensor = replace(UNIT, yaw_gain=0.5, size_gain=0.25)
    tracker = _tracker(_batch([20.0, 0.0], size=(4.0, 2.0, 1.5), z=0.5, yaw=0.2),
                       _batch([20.0, 0.0], size=(6.0, 1.0, 1.5), z=1.5, yaw=0.4), config=_config(sensor, **LOOSE))
    (track,) = tracker.tracks()
    assert (track.length_m, track.width_m, track.z_m, track.yaw_rad) == pytest.approx((4.5, 1.75, 0.75, 0.3))


def test_a_reversed_yaw_of_a_fast_track_is_turned_to_its_velocity_before_smoothing():
    # Born at the ego's 40 m/s along +x (certain enough: 40^2 > 4 x 15^2) with a box facing backwards.
    ego = EgoState(0.0, 0.0, 0.0, 0.0, 40.0)
    tracker = _tracker(_batch([20.0, 0.0], yaw=math.pi), _batch([20.0, 0.0], yaw=math.pi), ego=ego)
    assert abs(tracker.tracks()[0].yaw_rad) < 1e-6


def test_the_box_score_is_this_ticks_detection_not_an_earlier_better_one():
    tracker = _tracker(_batch([20.0, 0.0], score=0.9))
    tracker.update(_batch([20.0, 0.0], score=0.6, stamp=0.1), replace(EGO, stamp=0.1))
    (track,) = tracker.tracks()
    assert track.score == pytest.approx(track.existence_prob * 0.6)


# -- existence --------------------------------------------------------------------------------------
def test_a_hit_multiplies_the_existence_odds_by_the_hit_ratio_times_the_detection_probability():
    # Unit source: hit ratio q / (1 - q) (trust 1), detection probability 0.9; born at 0.5 x 0.9 = 0.45.
    for score in (0.9, 0.3):  # a weak detection (ratio 0.43 x 0.9 < 1) lowers it
        tracker = _tracker(_batch([20.0, 0.0], score=0.9), _batch([20.0, 0.0], score=score))
        assert tracker.tracks()[0].existence_prob == pytest.approx(_odds_hit(0.45, score / (1 - score) * 0.9))


def test_a_sensor_misses_only_what_it_covers():
    # A 90 degree source misses a track behind the ego: no evidence, existence unchanged.
    front = replace(UNIT, source="front", fov_deg=90.0)
    tracker = _tracker(_batch([20.0, 0.0], source="front"), config=_config(front, **LOOSE))
    before = tracker.tracks()[0].existence_prob
    tracker.update(_batch(np.zeros((0, 2)), source="front"), replace(EGO, yaw_rad=math.pi))
    assert tracker.tracks()[0].existence_prob == pytest.approx(before)


def _miss(r, p):
    return r * (1.0 - p) / (1.0 - r * p)


def test_misses_of_an_uncertain_track_teach_the_sensor_nothing():
    tracker = _tracker(_batch([20.0, 0.0]))  # existence 0.5 < 0.99
    for _ in range(2):
        tracker.update(_batch(np.zeros((0, 2))), EGO)
    assert tracker.tracks()[0].existence_prob == pytest.approx(_miss(_miss(0.5, 0.9), 0.9))


def test_a_miss_of_a_sure_track_lowers_the_sensors_learned_detection_probability():
    # Born at 1 x 0.99, one hit (ratio 99 x 0.9) makes it sure (> 0.99); its first miss is one look of
    # 50 + 1 without a detection, so the second miss weighs with p = 45 / 51.
    config = _config(replace(UNIT, birth_prior=1.0), **LOOSE)
    tracker = _tracker(_batch([20.0, 0.0], score=0.99), _batch([20.0, 0.0], score=0.99), config=config)
    r = tracker.tracks()[0].existence_prob
    assert r == pytest.approx(_odds_hit(0.99, 99.0 * 0.9))
    for _ in range(2):
        tracker.update(_batch(np.zeros((0, 2))), EGO)
    assert tracker.tracks()[0].existence_prob == pytest.approx(_miss(_miss(r, 0.9), 45.0 / 51.0))


def test_a_partly_hidden_car_loses_less_existence_on_a_miss_than_a_visible_one():
    # From the ego, the car at (40, 3) is 88 % behind the one at (20, 0): a lidar miss weighs 12 %.
    both = _batch([[20.0, 0.0], [40.0, 3.0]], cov=0.01, source="lidar")
    tracker = _tracker(both, _batch([20.0, 0.0], cov=0.01, source="lidar"))
    far = max(tracker.tracks(), key=lambda t: t.x_m).existence_prob
    assert _miss(0.7, 0.84) < far < 0.7


def test_a_track_at_exactly_the_output_existence_blocks_the_view():
    # Both born at 0.5 x 1 = 0.5 = output_existence: the near one hides the far one, whose miss is no evidence.
    config = _config(delete_existence=0.0, output_coast_var_m2=1e6)
    tracker = _tracker(_batch([[20.0, 0.0], [40.0, 0.0]], cov=0.01), config=config)
    tracker.update(_batch([20.0, 0.0], cov=0.01), EGO)
    assert {round(t.x_m): t.existence_prob for t in tracker.tracks()}[40] == pytest.approx(0.5)


# -- output policy and deletion at their limits ---------------------------------------------------
def _coasting_at_birth(**kw):
    """A track born from a unit-variance detection (existence 0.5, position variance exactly 1), then a tick
    at the same stamp without detections: coasting for 0 s."""
    tracker = MultiObjectTracker(_config(**kw))
    tracker.update(_batch([20.0, 0.0]), EGO)
    tracker.update([], EGO)
    return tracker.tracks()


@pytest.mark.parametrize("limits", [dict(output_existence=0.5), dict(output_coast_s=0.0),
                                    dict(output_coast_var_m2=1.0), dict(delete_existence=0.5),
                                    dict(max_position_var_m2=1.0)])
def test_a_track_exactly_at_an_output_or_deletion_limit_is_kept_and_output(limits):
    (track,) = _coasting_at_birth(**limits)
    assert track.status == "coasting"


def test_a_track_unseen_for_exactly_max_coast_s_is_kept():
    config = _config(init_speed_std_mps=0.1, accel_along_std_mps2=0.1, accel_across_std_mps2=0.1, **LOOSE)
    tracker = MultiObjectTracker(config)
    tracker.update(_batch([20.0, 0.0]), EGO)
    tracker.update([], replace(EGO, stamp=3.0))
    tracker.update(_batch([20.0, 0.0], stamp=3.1), replace(EGO, stamp=3.1))
    assert [t.track_id for t in tracker.tracks()] == [1]


# -- confirmation by a confirming source ------------------------------------------------------------
def _lidar(xy=(20.0, 0.0), score=1.0, stamp=0.0):
    return _batch(xy if score is not None else np.zeros((0, 2)), cov=0.01, source="lidar", stamp=stamp,
                  score=score if score is not None else 1.0)


def _outputs_after(first_score: float, later_scores: list) -> list[int]:
    """Number of tracks output after each tick: a lidar birth, then lidar frames (None: a miss)."""
    tracker = MultiObjectTracker(TrackerConfig(output_existence=0.0, unconfirmed_frames=2, **{
        k: v for k, v in LOOSE.items() if k != "output_existence"}))
    tracker.update(_lidar(score=first_score), EGO)
    counts = []
    for score in later_scores:
        tracker.update(_lidar(score=score), EGO)
        counts.append(len(tracker.tracks()))
    return counts


def test_a_car_born_confident_is_carried_by_weak_detections_alone():
    assert _outputs_after(1.0, [0.25] * 4) == [1, 1, 1, 1]


def test_a_car_born_weak_is_carried_by_weak_detections_once_a_confident_one_confirmed_it():
    assert _outputs_after(0.4, [1.0] + [0.25] * 4) == [1] * 5
    assert _outputs_after(0.4, [0.25] * 4) == [1, 1, 0, 0]  # never confirmed: withheld after 2 frames


def test_a_confirmed_car_missed_by_the_lidar_is_withheld_after_unconfirmed_frames():
    assert _outputs_after(1.0, [None] * 3) == [1, 1, 0]
    assert _outputs_after(1.0, [1.0] + [None] * 3) == [1, 1, 1, 0]


def test_frames_where_detection_is_a_coin_flip_do_not_count_against_confirmation():
    coin = replace(LIDAR, p_detect=(0.5,) * 7)
    tracker = MultiObjectTracker(TrackerConfig(sensors=(coin,), unconfirmed_frames=0, **LOOSE))
    tracker.update(_lidar(), EGO)
    tracker.update(_lidar(score=None), EGO)
    assert len(tracker.tracks()) == 1


def _camera(xy, stamp):
    return _batch(xy, cov=0.25, source="camera", stamp=stamp)


def test_camera_boxes_that_overlap_a_track_outside_its_gate_do_not_update_it():
    # 1.5 m behind a lidar track: the boxes overlap, but d^2 is about 38 and the camera's overlap is not used.
    tracker = MultiObjectTracker(TrackerConfig(**LOOSE))
    tracker.update(_lidar(), EGO)
    tracker.update(_batch([21.5, 0.0], cov=1e-4, source="camera"), EGO)
    assert [t.status for t in tracker.tracks()] == ["coasting"]


def test_a_camera_born_track_is_withheld_at_the_first_lidar_frame_that_misses_it():
    tracker = MultiObjectTracker(TrackerConfig(**LOOSE))
    tracker.update(_camera([20.0, 0.0], 0.0), EGO)  # no lidar frame yet: the camera starts it
    assert len(tracker.tracks()) == 1
    tracker.update(_lidar(score=None, stamp=0.1), replace(EGO, stamp=0.1))
    assert tracker.tracks() == ()


@pytest.mark.parametrize("lidar, lidar_stamp, camera_stamp, expected", [
    (LIDAR, 0.0, 0.15, 0),                                       # a lidar frame exactly 0.15 s old still watches
    (replace(LIDAR, fov_deg=40.0), 0.1, 0.1, 1),                 # outside the lidar's view: the camera may
    (replace(LIDAR, p_detect=(0.5,) * 7), 0.1, 0.1, 1),          # the lidar would see it only half the time
])
def test_where_a_lidar_looks_the_camera_starts_no_track(lidar, lidar_stamp, camera_stamp, expected):
    tracker = MultiObjectTracker(TrackerConfig(sensors=(lidar, CAMERA), **LOOSE))
    tracker.update(_lidar(score=None, stamp=lidar_stamp), replace(EGO, stamp=lidar_stamp))
    ego = replace(EGO, stamp=camera_stamp + 0.3)  # the camera frame is judged at its own stamp, not the ego's
    tracker.update(_camera([20.0, 20.0 * math.tan(math.radians(30.0))], camera_stamp), ego)
    assert len(tracker.tracks()) == expected


@pytest.mark.parametrize("watched_rate, expected", [(0.5, 1), (0.15, 0)])
def test_a_lower_watched_rate_keeps_the_camera_waiting_where_the_lidar_sees_now_and_then(watched_rate, expected):
    lidar = replace(LIDAR, p_detect=(0.3,) * 7)  # the lidar detects 3 cars in 10 there
    tracker = MultiObjectTracker(TrackerConfig(sensors=(lidar, CAMERA), watched_rate=watched_rate, **LOOSE))
    tracker.update(_lidar(score=None, stamp=0.1), replace(EGO, stamp=0.1))
    tracker.update(_camera([20.0, 20.0 * math.tan(math.radians(30.0))], 0.1), replace(EGO, stamp=0.4))
    assert len(tracker.tracks()) == expected


# -- the sensor's pose at its frame's stamp judges a miss -------------------------------------------
@pytest.mark.parametrize("ego, track_xy", [
    (EgoState(1.0, 20.0, 0.0, 0.0, 20.0), (15.0, 0.0)),              # 10 m back along +x at the frame
    (EgoState(1.0, 0.0, 0.0, -math.pi / 2, 20.0), (0.0, 5.0)),       # 10 m back along -y
    (EgoState(1.0, 0.0, 0.0, 0.0, 0.0, yaw_rate_radps=2.0), (10.0 * math.cos(-1.0), 10.0 * math.sin(-1.0))),
])
def test_a_late_frame_is_judged_from_where_the_sensor_was_when_it_took_it(ego, track_xy):
    # The frame at 0.5 s saw the track 5-10 m ahead in its 90 degree view (at the ego's stamp, 1 s,
    # it is behind or beside): the miss counts.
    front = replace(UNIT, source="front", fov_deg=90.0)
    tracker = MultiObjectTracker(_config(front, **LOOSE))
    tracker.update(_batch(track_xy, source="front"), EGO)  # born at existence 0.5, standing still
    tracker.update(_batch(np.zeros((0, 2)), source="front", stamp=0.5), ego)
    assert tracker.tracks()[0].existence_prob < 0.2
