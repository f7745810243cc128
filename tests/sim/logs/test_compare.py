"""``replay --compare``'s per-tick diff: a changed plan must show, an unchanged one must not."""
import numpy as np
import pytest

from control.types import Trajectory
from sim.logs.compare import Comparison, diff_tick


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
