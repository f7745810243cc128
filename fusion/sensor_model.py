"""What the tracker knows about each detector ``source``: how far to trust its reported covariance,
where it can see, how likely it is to detect a vehicle there, and how much one of its detections
says about a vehicle being real. Track existence is fused from these (``fusion.existence``).

Defaults come from the fitted surrogate error models (``configs/surrogate.yaml``: detection
probability per 10 m range bin) and the NIS calibration of ``drivestack evaluate-tracking --nis``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fusion.kernels import coverage, sensor_view


@dataclass(frozen=True)
class SensorModel:
    source: str
    floor_m2: float = 0.04
    """Variance [m^2] added to each axis of the reported centre covariance (model error the
    detector does not know about)."""
    noise_scale: float = 1.0
    """Factor on the reported covariance (1: the detector's own covariance is calibrated)."""
    range_edges_m: tuple[float, ...] = (0.0, 20.0, 40.0, 60.0, 80.0)
    p_detect: tuple[float, ...] = (0.9, 0.9, 0.8, 0.5)
    """Probability of detecting an unoccluded vehicle inside the field of view, per range bin."""
    fov_deg: float = 360.0
    """Horizontal field of view, centred on the ego's x axis [deg]."""
    birth_prior: float = 0.5
    """Existence of a track born from a detection of score 1 (scaled by the score)."""
    min_score: float = 0.0
    """Its detections scoring below this are ignored."""
    birth_score: float = 0.5
    """Only detections scoring at least this start tracks."""
    score_trust: float = 1.0
    """Factor on an associated detection's score odds q / (1 - q) in the existence update: how much
    more likely a detection inside a track's gate is the tracked vehicle than clutter (clutter rarely
    falls there), below 1 for a source whose confident detections are still often wrong."""
    max_hit_ratio: float = 100.0
    """Cap on a hit's score odds times ``score_trust``, before the detection probability there multiplies
    it into the existence odds gain (so a hit gains at most ``max_hit_ratio * p_detect``): a source with
    a small cap cannot alone push a track far, however confident its detections, and the less so where
    it rarely detects (capping the product instead let the camera's close-range false detections keep
    phantoms alive in a lidar blackout: MOTA 0.657 -> 0.609 on tuning seeds 7000-7005)."""
    box_overlap: bool = True
    """Whether its boxes' overlap with the tracks' helps association (not for a monocular camera,
    whose depth errors dominate any overlap: its Mahalanobis distance along the ray says more)."""
    inflates: bool = True
    """Whether an improbable innovation of its detections inflates the track's predicted covariance
    (``TrackerConfig.inflate_chi2``); not for a monocular camera, whose depth outliers would drag a track."""
    adapts_noise: bool = True
    """Whether the tracker widens its covariance online when its detections' NIS says it is understated
    (``fusion.noise_scale.NoiseScale``; not for a monocular camera, whose heavy-tailed depth errors are
    down-weighted detection by detection instead: see ``inflates``)."""
    confirms: bool = True
    """Whether this source alone can keep a track output where a confirming source looks (a camera
    does not: its depth errors at range would otherwise sustain phantoms; ``TrackerConfig.unconfirmed_frames``)."""
    error_correlation: tuple[float, float] = (0.0, 0.0)
    """Correlation of its centre errors from one frame to the next for the same vehicle, along and across
    the viewing ray (``drivestack evaluate-tracking`` measures it). A Kalman update treats successive
    detections as independent; correlated ones carry less news, so the update divides their information
    by ``update_inflation``. Association, gating and NIS keep the per-frame covariance."""
    correlation_window_frames: int = 10
    """Frames over which the track is taken to average this source's detections (its memory: about 1 s
    at 10 Hz, beyond which the process noise has forgotten a position): ``update_inflation`` is the
    variance factor of the mean of that many AR(1) errors."""
    yaw_gain: float = 0.3
    size_gain: float = 0.2
    """How far one detection moves the track's yaw and box size (and centre height) towards its own
    (exponential smoothing; 1: take it as is): small for a source with noisy yaw or size."""

    def coverage(self, rel_xy_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(range bin (N,), inside the field of view and range (N,)) of ego-frame positions (N, 2) [m]."""
        return coverage(np.asarray(rel_xy_m, float), *self._bins_and_fov)

    def view(self, xy_m: np.ndarray, pose: tuple[float, float, float], lw_m: np.ndarray, blocking: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(range bin, inside the field of view and range, unoccluded share) (N,) of boxes at map positions
        xy_m (N, >=2) [m], length and width lw_m (N, >=2) [m], seen from the map-frame pose (x_m, y_m, yaw_rad);
        only ``blocking`` (N,) boxes hide others."""
        return sensor_view(xy_m, *pose, lw_m, blocking, *self._bins_and_fov)

    @property
    def _bins_and_fov(self) -> tuple[np.ndarray, int, float]:
        return np.asarray(self.range_edges_m, float), len(self.p_detect), math.radians(self.fov_deg) / 2.0

    @property
    def update_inflation(self) -> tuple[float, float]:
        """Factors on its covariance along and across the ray in the Kalman update: the variance of the mean
        of n = ``correlation_window_frames`` AR(1) errors with lag-one correlation rho, over that of n
        independent ones: 1 + 2 sum_{k<n} (1 - k/n) rho^k."""
        n = self.correlation_window_frames
        return tuple(1.0 + 2.0 * sum((1.0 - k / n) * rho ** k for k in range(1, n)) for rho in self.error_correlation)

    def hit_ratio(self, score: np.ndarray) -> np.ndarray:
        """Existence odds gain (N,) of detections with these scores (times the detection probability)."""
        q = np.clip(score, 0.01, 0.99)
        return np.minimum(self.score_trust * q / (1.0 - q), self.max_hit_ratio)


LIDAR = SensorModel("lidar", floor_m2=0.005, noise_scale=0.2,
                    range_edges_m=(0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 80.0),
                    p_detect=(1.0, 0.99, 0.95, 0.90, 0.84, 0.24, 0.01), birth_prior=0.7, min_score=0.2,
                    birth_score=0.3, score_trust=10.0)
"""Clutter is rare (0.003 false detections per frame over score 0.3 on the validation split): a hit is strong
evidence. Weaker detections (0.2-0.3, about half of them clutter, most of the rest a half-hidden vehicle)
keep a track alive through partial occlusion but start none. Its updates are independent
(``error_correlation`` 0, though its errors persist a little from frame to frame: 0.18 along the ray, 0.42
across it on tuning seeds 7000-7005, 0.23 / 0.50 held out): applied alone, without the camera's, it gave
the camera relatively more weight in lidar+camera tracking (held-out MOTA 0.99183 -> 0.99125)."""
CAMERA = SensorModel("camera", floor_m2=0.05, noise_scale=0.2,
                     range_edges_m=(0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 80.0),
                     p_detect=(0.3, 0.6, 0.6, 0.55, 0.45, 0.3, 0.1), fov_deg=80.0, min_score=0.3, birth_prior=0.5,
                     score_trust=5.0, max_hit_ratio=3.0, confirms=False, box_overlap=False, inflates=False,
                     adapts_noise=False)
"""Its reported covariance is 5x too wide for most detections (NIS median 0.1-0.2) with a heavy tail,
so it is scaled by 0.2 (the smallest scale that keeps 95 % of NIS inside the chi-square bound in
every range bin: 0.95/0.99/0.96 on tuning seeds 7000-7005; one scale per 10 m bin by the same rule,
0.05-0.2, helped on those seeds but not on held-out ones: thinned-lidar fused MOTA 0.9651 -> 0.963) and an
improbable innovation widens the detection's covariance instead of the track's (``inflates=False``). One
hit is capped at 3:1 odds
(its false detections score like its true ones); its detection probability counts every vehicle
centred in a slightly narrowed field of view (cut by the image edge, partly hidden), so a camera miss
weighs far less than a lidar miss. It starts no track where the lidar looks
(``TrackerConfig.confirming_frame_s``). Its errors persist from frame to frame far more than the
lidar's (correlation 0.69 along the ray, 0.81 across it on tuning seeds 7000-7005, 0.74 / 0.82 on held-out
seeds 4242-4251: a car's depth sits on the same pixel rows for several frames), yet its updates stay
independent (``error_correlation`` 0): widening them by that persistence helped on the tuning seeds
(thinned lidar 0.9728 -> 0.9754, blackout 0.657 -> 0.672) but cost held-out blackout MOTA 0.732 -> 0.695,
where the camera alone must follow the cars' speed changes and a down-weighted depth made its tracks lag;
across the ray it also cost camera-only MOTA (0.685 -> 0.665 held out)."""
CLASSICAL = SensorModel("classical", floor_m2=0.01, range_edges_m=(0.0, 20.0, 40.0, 60.0),
                        p_detect=(0.8, 0.6, 0.3), birth_prior=0.5, score_trust=0.5, max_hit_ratio=10.0)
POINTRCNN = SensorModel("pointrcnn", floor_m2=0.01, p_detect=(0.9, 0.9, 0.8, 0.5), fov_deg=82.0, birth_prior=1.0,
                        birth_score=0.8, score_trust=10.0, max_hit_ratio=1e6, yaw_gain=1.0, size_gain=1.0)
"""The KITTI detections (PointRCNN; score = sigmoid of its logit): precise boxes and yaw (taken as they
come), the camera's field of view; detections under logit 1.4 often are clutter, so they update tracks
but start none."""
DEFAULT_SENSORS = (LIDAR, CAMERA, CLASSICAL, POINTRCNN)
