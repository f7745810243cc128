"""Online calibration of a source's measurement covariance from its normalised innovations.

A detector's reported covariance is calibrated offline (``SensorModel.noise_scale``, NIS on simulated
data), for the sensor as it was then. When the sensor degrades (thinned lidar points, rain, a dirty
lens) its errors grow but its reported covariance does not: detections fall outside the gate, tracks
split and identities switch. ``NoiseScale`` watches the squared Mahalanobis distance d^2 of the
detections the tracker associates, per range bin, and widens that source's covariance until the
median d^2 is the chi-square median again (covariance matching in the way of adaptive Kalman filters).

The median, not the mean: a few wrong associations or depth outliers would drag a mean, while the
share of d^2 above the chi-square median is robust to them. The scale never falls below 1 (the offline
calibration is the floor): a source that does better than its calibration keeps its covariance.
"""
from __future__ import annotations

import numpy as np

CHI2_2DOF_MEDIAN = 2.0 * np.log(2.0)
"""Median of a chi-square with 2 degrees of freedom (a position measurement): 1.386."""


class NoiseScale:
    """Factor per range bin on one source's covariance. Each associated detection moves its bin's log
    factor by ``+rate/2`` when its d^2 is above the chi-square median and ``-rate/2`` when below
    (a stochastic quantile tracker); the factor stays inside [1, ``max_scale``]."""

    def __init__(self, bins: int, rate: float = 0.03, max_scale: float = 20.0) -> None:
        self.log_scale = np.zeros(bins)
        self.rate, self.max_log = rate, float(np.log(max_scale))

    def factor(self, bins: np.ndarray) -> np.ndarray:
        """Factors (N,) for detections in range bins ``bins`` (N,)."""
        return np.exp(self.log_scale[bins])

    def add(self, bins: np.ndarray, d2: np.ndarray) -> None:
        """Record the d^2 (N,) of associated detections in range bins ``bins`` (N,)."""
        step = np.where(d2 > CHI2_2DOF_MEDIAN, 0.5 * self.rate, -0.5 * self.rate)
        np.add.at(self.log_scale, bins, step)
        np.clip(self.log_scale, 0.0, self.max_log, out=self.log_scale)
