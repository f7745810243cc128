"""Track existence: the probability that a track is a real vehicle, updated by every sensor's hits and
misses (a simplified integrated-probabilistic-data-association update, per source and range).

- hit: the odds r / (1 - r) grow by the source's hit ratio times its detection probability there;
- miss: a source that reported a frame, covers the track's place (field of view, range) and is
  not blocked by a nearer track, yet did not detect it: r <- r (1 - pD) / (1 - r pD);
- between updates r decays slowly (a vehicle can leave the scene unseen).

So a camera hit (capped ratio) cannot outweigh a lidar miss where the lidar sees well, while in a
lidar blackout (no lidar frame, hence no lidar misses) the camera alone confirms and carries tracks.
"""
from __future__ import annotations

import numpy as np

R_MIN, R_MAX = 1e-6, 1.0 - 1e-6
"""Existence is kept inside these bounds so evidence can always turn it."""


def after_hit(r: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """Existence after detections with odds gains ``ratio`` (both (N,))."""
    return np.clip(r * ratio / (r * ratio + 1.0 - r), R_MIN, R_MAX)


def after_miss(r: np.ndarray, p_detect: np.ndarray) -> np.ndarray:
    """Existence after a sensor with detection probabilities ``p_detect`` (N,) missed the tracks."""
    return np.clip(r * (1.0 - p_detect) / np.maximum(1.0 - r * p_detect, 1e-9), R_MIN, R_MAX)


def after_time(r: np.ndarray, dt_s: float, survival_per_s: float) -> np.ndarray:
    return np.clip(r * survival_per_s ** max(dt_s, 0.0), R_MIN, R_MAX)


class DetectionRate:
    """Online estimate of one source's detection probability per range bin, from what it did with
    the tracks it should have seen (confident, unoccluded, in view): Beta-style, starting from the
    sensor model's table worth ``prior_looks`` looks, so a degraded sensor (thinned lidar points,
    a dim camera) is trusted less within seconds and a misconfigured table corrects itself."""

    def __init__(self, table: np.ndarray, prior_looks: float = 50.0) -> None:
        self.hits = np.asarray(table, float) * prior_looks
        self.looks = np.full(len(table), float(prior_looks))

    def add(self, bins: np.ndarray, detected: np.ndarray) -> None:
        self.looks += np.bincount(bins, minlength=len(self.looks))
        self.hits += np.bincount(bins, weights=detected.astype(float), minlength=len(self.hits))

    def probability(self, bins: np.ndarray) -> np.ndarray:
        return self.hits[bins] / self.looks[bins]
