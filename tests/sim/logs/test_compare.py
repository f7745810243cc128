"""``replay --compare``'s per-tick diff: each replayed number is held against its recorded twin, and a
missing or extra output is an infinite difference with a note that says which one; ``Comparison``
sums the ticks up against a tolerance."""
from dataclasses import replace

import numpy as np
import pytest

from control.types import Trajectory
from fusion.types import Track
from perception.detections import Detections
from sim.logs.compare import Comparison, TickDiff, diff_tick


def _plan(dy: float = 0.0, dv: float = 0.0) -> Trajectory:
    t = np.arange(21) * 0.25
    return Trajectory(t_s=t, xy_m=np.stack([10.0 * t, np.full(21, dy)], axis=1), yaw_rad=np.zeros(21),
                      speed_mps=np.full(21, 10.0 + dv))


@pytest.mark.parametrize("new, expected", [(_plan(), 0.0), (_plan(dy=0.5), 0.5), (_plan(dv=-1.0), 1.0)])
def test_plan_differences_are_measured(new, expected):
    d = diff_tick(0.0, [], (), (), (), new, _plan())
    assert d.plan == pytest.approx(expected)
    assert d.worst() == pytest.approx(expected)


def test_a_moved_plan_fails_the_comparison():
    comparison = Comparison(tolerance=1e-3)
    comparison.add(diff_tick(0.0, [], (), (), (), _plan(), _plan()))
    comparison.add(diff_tick(0.1, [], (), (), (), _plan(dy=0.2), _plan()))
    assert comparison.diverged == 1 and comparison.first.stamp == pytest.approx(0.1)


def _tick(stamp: float, detections: float = 0.0, tracks: float = 0.0, plan: float = 0.0, notes=()) -> TickDiff:
    return TickDiff(stamp, detections, tracks, plan, tuple(notes))


def test_nothing_compared_fails():
    comparison = Comparison(tolerance=0.01)
    comparison.skip()
    assert not comparison.passed
    assert comparison.summary() == {
        "tolerance": 0.01, "ticks": 0, "diverged_ticks": 0, "skipped_ticks": 1, "detections_only_ticks": 0,
        "max_difference": {"detections": 0.0, "tracks": 0.0, "plan": 0.0}, "first_divergence": None,
        "passed": False}


def test_differences_up_to_the_tolerance_pass_and_the_largest_of_each_output_is_kept():
    comparison = Comparison(tolerance=0.5)
    for tick in (_tick(0.0, 0.2, 0.1, 0.5), _tick(0.1, 0.4, 0.0, 0.3), _tick(0.2, 0.1, 0.3, 0.0)):
        comparison.add(tick)
    assert comparison.passed and comparison.first is None
    summary = comparison.summary()
    assert summary["max_difference"] == {"detections": 0.4, "tracks": 0.3, "plan": 0.5}
    assert (summary["ticks"], summary["diverged_ticks"], summary["passed"]) == (3, 0, True)
    assert summary["detections_only_ticks"] == 0


def test_the_first_divergence_is_reported_with_its_notes():
    comparison = Comparison(tolerance=0.1)
    comparison.add(_tick(0.0), stateful=False)
    comparison.add(_tick(0.1, tracks=np.inf, notes=["no recorded tracks"]), stateful=True)
    comparison.add(_tick(0.2, detections=0.3), stateful=False)
    comparison.skip()
    comparison.skip()
    comparison.add(_tick(0.4, plan=0.11), stateful=False)
    assert not comparison.passed
    assert comparison.summary() == {
        "tolerance": 0.1, "ticks": 4, "diverged_ticks": 3, "skipped_ticks": 2, "detections_only_ticks": 3,
        "max_difference": {"detections": 0.3, "tracks": np.inf, "plan": 0.11},
        "first_divergence": {"stamp": 0.1, "detections": 0.0, "tracks": np.inf, "plan": 0.0,
                             "notes": ["no recorded tracks"]},
        "passed": False}


def _dets(source: str, n: int = 2, **changes) -> Detections:
    """``n`` boxes of ``source``; ``changes`` maps a field to (index, value) to overwrite."""
    fields = {"center_m": np.arange(3 * n, dtype=float).reshape(n, 3), "size_m": np.tile([4.5, 1.8, 1.5], (n, 1)),
              "yaw_rad": np.linspace(-0.2, 0.2, n), "score": np.full(n, 0.9),
              "covariance_m2": np.tile(np.eye(2) * 0.25, (n, 1, 1))}
    for name, (index, value) in changes.items():
        fields[name] = fields[name].copy()
        fields[name][index] = value
    return Detections(stamp=1.0, source=source, **fields)


def _track(track_id: int = 1, **changes) -> Track:
    base = Track(track_id=track_id, x_m=20.0, y_m=-3.5, vx_mps=25.0, vy_mps=0.1, yaw_rad=0.1, length_m=5.0,
                 width_m=2.0, covariance=np.eye(4), lane_id="a_b_1", lane_offset_m=0.2)
    return replace(base, **changes)


def _short_plan(n: int = 5, dt: float = 0.5, dxy=(0.0, 0.0), dv: float = 0.0) -> Trajectory:
    t = np.arange(n) * dt
    xy = np.stack([10.0 * t, np.zeros(n)], axis=1)
    xy[-1] += dxy
    speed = np.full(n, 10.0)
    speed[1] += dv
    return Trajectory(t_s=t, xy_m=xy, yaw_rad=np.zeros(n), speed_mps=speed)


def _diff(new_dets=(), old_dets=(), new_tracks=(), old_tracks=(), new_plan=None, old_plan=None, stateful=True):
    return diff_tick(2.5, list(new_dets), old_dets if old_dets is None else tuple(old_dets), tuple(new_tracks),
                     old_tracks if old_tracks is None else tuple(old_tracks), new_plan, old_plan, stateful)


def test_identical_outputs_differ_by_nothing():
    d = _diff([_dets("camera"), _dets("lidar", 3)], [_dets("camera"), _dets("lidar", 3)],
              [_track(1), _track(4)], [_track(1), _track(4)], _short_plan(), _short_plan())
    assert d == TickDiff(2.5, 0.0, 0.0, 0.0, ())
    assert d.worst() == 0.0


@pytest.mark.parametrize("field, index, value, expected", [
    ("center_m", (1, 2), 5.0 + 0.3, 0.3), ("size_m", (0, 0), 4.5 - 0.7, 0.7), ("score", 1, 0.4, 0.5),
    ("covariance_m2", (0, 1, 1), 1.25, 1.0), ("yaw_rad", 0, -0.2 + 0.15, 0.15)])
def test_each_detection_field_counts(field, index, value, expected):
    d = _diff([_dets("camera", **{field: (index, value)})], [_dets("camera")])
    assert d.detections == pytest.approx(expected)
    assert (d.tracks, d.plan, d.notes) == (0.0, 0.0, ())


@pytest.mark.parametrize("new_yaw, old_yaw, expected",
                         [(np.pi - 0.05, -np.pi + 0.05, 0.1), (2 * np.pi + 0.3, 0.3, 0.0)])
def test_a_detection_yaw_difference_is_taken_around_the_circle(new_yaw, old_yaw, expected):
    d = _diff([_dets("camera", yaw_rad=(0, new_yaw))], [_dets("camera", yaw_rad=(0, old_yaw))])
    assert d.detections == pytest.approx(expected, abs=1e-12)


def test_detectors_are_paired_by_source_and_the_worst_one_counts():
    new = [_dets("camera", score=(0, 0.6)), _dets("lidar", center_m=((0, 0), 0.1))]
    old = [_dets("lidar"), _dets("camera")]
    assert _diff(new, old).detections == pytest.approx(0.3)
    assert _diff(new[::-1], old).detections == pytest.approx(0.3)


def test_detectors_with_no_boxes_on_both_sides_are_equal():
    d = _diff([Detections.empty(1.0, "camera")], [Detections.empty(1.0, "camera")])
    assert (d.detections, d.notes) == (0.0, ())


@pytest.mark.parametrize("new, old, notes", [
    ([_dets("camera", 2)], [_dets("camera", 1)], ("camera: 2 detections, 1 recorded",)),
    ([_dets("camera"), _dets("lidar")], [_dets("lidar")], ("camera: no recorded detections",)),
    ([_dets("lidar")], [_dets("camera"), _dets("lidar")], ("camera: recorded but not replayed",)),
    ([_dets("camera", 1), _dets("lidar")], [_dets("camera", 3)],
     ("camera: 1 detections, 3 recorded", "lidar: no recorded detections")),
])
def test_a_missing_or_extra_detection_is_an_infinite_difference(new, old, notes):
    d = _diff(new, old)
    assert d.detections == np.inf and d.notes == notes
    assert d.worst() == np.inf


def test_a_count_mismatch_is_not_hidden_by_a_later_matching_detector():
    d = _diff([_dets("camera", 1), _dets("lidar")], [_dets("camera", 2), _dets("lidar")])
    assert d.detections == np.inf


def test_no_recorded_detections_at_all():
    d = _diff([_dets("camera")], None)
    assert d.detections == np.inf and d.notes == ("camera: no recorded detections",)
    assert _diff([], None).detections == 0.0


@pytest.mark.parametrize("change, expected", [
    ({"x_m": 20.4}, 0.4), ({"y_m": -3.0}, 0.5), ({"vx_mps": 24.4}, 0.6), ({"vy_mps": 0.8}, 0.7),
    ({"length_m": 5.8}, 0.8), ({"width_m": 2.9}, 0.9), ({"lane_offset_m": -0.1}, 0.3),
    ({"covariance": np.diag([1.0, 1.0, 1.0, 2.5])}, 1.5), ({"yaw_rad": -0.25}, 0.35)])
def test_each_track_field_counts(change, expected):
    d = _diff(new_tracks=[_track(1), _track(2, **change)], old_tracks=[_track(1), _track(2)])
    assert d.tracks == pytest.approx(expected)
    assert (d.detections, d.plan, d.notes) == (0.0, 0.0, ())


def test_the_worst_track_counts_and_its_yaw_wraps():
    new = [_track(1, x_m=21.0, yaw_rad=np.pi - 0.1), _track(2, x_m=20.25)]
    old = [_track(1, yaw_rad=-np.pi + 0.1), _track(2)]
    assert _diff(new_tracks=new, old_tracks=old).tracks == pytest.approx(1.0)
    new = [_track(1, yaw_rad=np.pi - 0.1), _track(2, x_m=20.25)]
    assert _diff(new_tracks=new, old_tracks=old).tracks == pytest.approx(0.25)


@pytest.mark.parametrize("new, old, note", [
    ([_track(1)], None, "no recorded tracks"),
    ([_track(1), _track(2)], [_track(2), _track(1)], "track ids [1, 2], recorded [2, 1]"),
    ([_track(i) for i in range(10)], [_track(i) for i in range(9)],
     "track ids [0, 1, 2, 3, 4, 5, 6, 7, ...], recorded [0, 1, 2, 3, 4, 5, 6, 7, ...]"),
    ([_track(i) for i in range(8)], [_track(i) for i in range(7)],
     "track ids [0, 1, 2, 3, 4, 5, 6, 7], recorded [0, 1, 2, 3, 4, 5, 6]"),
    ([_track(1), _track(2, lane_id="a_b_0")], [_track(1), _track(2)], "a track's lane or status differs"),
    ([_track(1, status="coasting")], [_track(1)], "a track's lane or status differs"),
])
def test_other_tracks_are_an_infinite_difference(new, old, note):
    d = _diff(new_tracks=new, old_tracks=old)
    assert d.tracks == np.inf and d.notes == (note,)


def test_no_tracks_on_either_side_are_equal():
    assert _diff(new_tracks=[], old_tracks=[]).tracks == 0.0


@pytest.mark.parametrize("new, expected", [
    (_short_plan(dxy=(3.0, 4.0)), 5.0), (_short_plan(dxy=(0.0, -0.5)), 0.5),
    (_short_plan(dxy=(0.3, 0.0), dv=-2.0), 2.0), (_short_plan(dv=0.75), 0.75)])
def test_plan_difference_is_the_pose_distance_or_the_speed_difference(new, expected):
    d = _diff(new_plan=new, old_plan=_short_plan())
    assert d.plan == pytest.approx(expected)
    assert d.notes == ()


@pytest.mark.parametrize("new, old, notes", [
    (None, None, ()), (None, _short_plan(), ("plan not replayed",)), (_short_plan(), None, ("plan not recorded",)),
])
def test_a_missing_plan(new, old, notes):
    d = _diff(new_plan=new, old_plan=old)
    assert d.plan == (0.0 if not notes else np.inf) and d.notes == notes


@pytest.mark.parametrize("new, note", [
    (_short_plan(n=4), "plan has 4 poses, recorded 5 (or other times)"),
    (_short_plan(dt=0.25), "plan has 5 poses, recorded 5 (or other times)")])
def test_a_plan_at_other_times_is_an_infinite_difference(new, note):
    d = _diff(new_plan=new, old_plan=_short_plan())
    assert d.plan == np.inf and d.notes == (note,)


def test_every_output_is_compared_and_noted_in_order():
    d = _diff([_dets("camera", 1)], [_dets("camera")], [_track(1)], None, None, _short_plan())
    assert d == TickDiff(2.5, np.inf, np.inf, np.inf,
                         ("camera: 1 detections, 2 recorded", "no recorded tracks", "plan not replayed"))


def test_a_stateless_tick_compares_the_detections_only():
    d = _diff([_dets("camera", score=(0, 0.7))], [_dets("camera")], [_track(1)], None, None, _short_plan(),
              stateful=False)
    assert (d.detections, d.tracks, d.plan, d.notes) == (pytest.approx(0.2), 0.0, 0.0, ())
    d = _diff([_dets("camera", 1)], [_dets("camera")], [_track(1)], None, stateful=False)
    assert d == TickDiff(2.5, np.inf, 0.0, 0.0, ("camera: 1 detections, 2 recorded",))


def _uint8_dets(score, yaw) -> Detections:
    return Detections(1.0, "camera", np.zeros((2, 3), np.uint8), np.full((2, 3), 4, np.uint8),
                      np.asarray(yaw, np.uint8), np.asarray(score, np.uint8), np.zeros((2, 2, 2), np.uint8))


@pytest.mark.parametrize("old, expected", [(_uint8_dets([2, 9], [0, 0]), 2.0), (_uint8_dets([0, 9], [3, 0]), 3.0)])
def test_integer_arrays_are_compared_by_value_without_wrapping_around(old, expected):
    assert _diff([_uint8_dets([0, 9], [0, 0])], [old]).detections == pytest.approx(expected)


@pytest.mark.parametrize("values, worst", [((0.1, 0.2, 0.3), 0.3), ((0.3, 0.1, 0.2), 0.3), ((0.1, 0.4, 0.2), 0.4)])
def test_the_worst_output_of_a_tick(values, worst):
    assert TickDiff(0.0, *values).worst() == worst
