"""Online covariance calibration: a degraded sensor's covariance is widened until its NIS is
calibrated again; a calibrated one keeps the offline calibration."""
import numpy as np
import pytest
from tracker_helpers import DT, detections, ego_at

from fusion.noise_scale import CHI2_2DOF_MEDIAN, NoiseScale
from fusion.sensor_model import SensorModel
from fusion.tracker import MultiObjectTracker, TrackerConfig


def _fed(true_over_reported: float, samples: int = 3000, seed: int = 0) -> NoiseScale:
    """A scale fed the d^2 of a source whose true covariance is this many times the reported one,
    each d^2 computed with the scale reached so far (as the tracker does)."""
    rng = np.random.default_rng(seed)
    scale = NoiseScale(bins=2)
    for _ in range(samples):
        d2 = rng.chisquare(2) * true_over_reported / scale.factor(np.array([1]))
        scale.add(np.array([1]), d2)
    return scale


@pytest.mark.parametrize("true_over_reported", [3.0, 9.0])
def test_an_understated_covariance_is_widened_until_the_median_nis_is_calibrated(true_over_reported):
    scale = _fed(true_over_reported)
    assert scale.factor(np.array([1]))[0] == pytest.approx(true_over_reported, rel=0.25)
    assert scale.factor(np.array([0]))[0] == 1.0  # the other range bin saw nothing


def test_a_calibrated_or_overstated_covariance_keeps_the_offline_calibration():
    assert _fed(1.0).factor(np.array([1]))[0] < 1.3
    assert _fed(0.2).factor(np.array([1]))[0] == 1.0  # never narrower than calibrated offline


def test_outliers_do_not_drag_the_scale():
    # one wrong association in ten, at the gate's edge: the median moves little (the factor settles
    # near 1.17), while a factor that matched the mean d^2 to 2 would settle at (0.9 * 2 + 0.1 * 13) / 2 = 1.55
    rng = np.random.default_rng(1)
    scale, factors = NoiseScale(bins=1), []
    for k in range(3000):
        d2 = (13.0 if k % 10 == 0 else rng.chisquare(2)) / scale.factor(np.array([0]))
        scale.add(np.array([0]), d2)
        factors.append(scale.factor(np.array([0]))[0])
    assert 1.05 < np.mean(factors[-1500:]) < 1.3


def test_the_scale_is_bounded():
    scale = NoiseScale(bins=1, max_scale=5.0)
    for _ in range(2000):
        scale.add(np.array([0]), np.array([1e6]))
    assert scale.factor(np.array([0]))[0] == pytest.approx(5.0)
    assert CHI2_2DOF_MEDIAN == pytest.approx(1.386, abs=1e-3)


def _track_noisy_source(rate: float) -> list[float]:
    """NIS the tracker records for a source that reports 0.15 m std but is off by 0.5 m."""
    rng = np.random.default_rng(2)
    config = TrackerConfig(noise_adapt_rate=rate, sensors=(SensorModel("lidar", floor_m2=0.0),))
    tracker = MultiObjectTracker(config)
    tracker.nis_log = []
    for k in range(300):
        t = k * DT
        ego = ego_at(t)
        truth = np.array([[25.0, 0.0], [25.0, 3.5]]) + [15.0 * t, 0.0]
        batch = detections(t, ego, truth)
        batch.center_m[:, :2] += rng.normal(0.0, 0.5, (2, 2))
        tracker.update([batch], ego)
    return [d2 for _, _, d2 in tracker.nis_log[-200:]]


def test_the_tracker_recalibrates_a_source_whose_errors_outgrew_its_covariance():
    fixed, adapted = np.median(_track_noisy_source(0.0)), np.median(_track_noisy_source(0.03))
    assert fixed > 5.0 * CHI2_2DOF_MEDIAN  # what the detector reports is far too confident
    assert adapted == pytest.approx(CHI2_2DOF_MEDIAN, rel=0.35)
