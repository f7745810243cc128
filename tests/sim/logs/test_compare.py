"""``replay --compare``'s per-tick diff: a changed plan must show, an unchanged one must not."""
import numpy as np
import pytest

from control.types import Trajectory
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
