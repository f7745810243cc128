"""The detector error correlation that ``evaluate-tracking`` reports: errors split along and across the
viewing ray of hand-placed detections, and the lag-one correlation of synthetic error series."""
import numpy as np
import pytest

from perception.detections import Detections
from perception.frames import BoxLabels
from sim.evaluation.error_correlation import ErrorPairs, correlation_summary, format_correlation, ray_errors


def _labels(xy) -> BoxLabels:
    xy = np.atleast_2d(np.asarray(xy, float))
    n = len(xy)
    return BoxLabels(np.arange(n) + 7, np.column_stack([xy, np.zeros(n)]), np.tile([4.5, 1.9, 1.5], (n, 1)),
                     np.zeros(n), np.zeros((n, 2)), np.full(n, 50), np.ones((n, 1)))


def _dets(xy, score=0.9, source="camera") -> Detections:
    xy = np.atleast_2d(np.asarray(xy, float))
    n = len(xy)
    return Detections(0.0, source, np.column_stack([xy, np.zeros(n)]), np.tile([4.5, 1.9, 1.5], (n, 1)),
                      np.zeros(n), np.broadcast_to(np.asarray(score, float), (n,)).copy(),
                      np.tile(np.eye(2), (n, 1, 1)))


def test_errors_are_split_along_and_across_the_ray_and_matched_one_to_one():
    # Vehicle 7 at 30 m dead ahead, vehicle 8 at (0, 20) to the left; the first detection is 2 m too
    # far and 0.5 m to the left, the second 1 m too near along its ray (the y axis), 0.3 m to its right.
    errors = ray_errors(_dets([[32.0, 0.5], [0.3, 19.0]]), _labels([[30.0, 0.0], [0.0, 20.0]]))
    assert errors[7] == pytest.approx((30.0, 2.0, 0.5))
    assert errors[8] == pytest.approx((20.0, -1.0, -0.3))


def test_weak_or_far_detections_are_not_matched():
    labels = _labels([[30.0, 0.0]])
    assert ray_errors(_dets([[31.0, 0.0]], score=0.4), labels) == {}
    assert ray_errors(_dets([[36.0, 0.0]]), labels) == {}


@pytest.mark.parametrize("rho", [0.0, 0.8])
def test_the_lag_one_correlation_of_an_ar1_error_series_is_recovered(rho):
    rng = np.random.default_rng(3)
    log, along, across = ErrorPairs(), 0.0, 0.0
    for _ in range(3000):
        along = rho * along + np.sqrt(1 - rho ** 2) * rng.normal()
        across = 0.5 * rng.normal()  # independent frames across the ray
        log.add([_dets([[30.0 + along, across]])], _labels([[30.0, 0.0]]))
    bins = correlation_summary(log.pairs)["camera"]
    assert bins["20-40"]["count"] == 2999 and bins["20-40"]["along_rho"] == pytest.approx(rho, abs=0.05)
    assert bins["20-40"]["across_rho"] == pytest.approx(0.0, abs=0.05)
    assert "rho along" in format_correlation(correlation_summary(log.pairs))


def test_a_frame_without_labels_pairs_nothing_and_sources_are_kept_apart():
    log, labels = ErrorPairs(), _labels([[30.0, 0.0]])
    log.add([_dets([[31.0, 0.0]]), _dets([[30.1, 0.0]], source="lidar")], labels)
    log.add([_dets([[31.0, 0.0]])], None)
    log.add([_dets([[31.5, 0.0]]), _dets([[30.2, 0.0]], source="lidar")], labels)
    pairs = sorted((p[0], round(p[2], 6), round(p[3], 6)) for p in log.pairs)
    assert pairs == [("camera", 1.0, 1.5), ("lidar", 0.1, 0.2)]
