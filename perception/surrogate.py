"""Surrogate detectors: ground-truth boxes turned into detections through a miss, noise and
false-positive model per sensor, with parameters fitted from a real detector's errors on validation
data (``fit_sensor_model``). Fast stand-ins for rendering plus networks, e.g. for RL training.

What a sensor could see is approximated without rendering: a lidar sees every box within its range,
a camera every box whose centre projects into its image. Occlusion is not modelled explicitly; it is
folded into the fitted detection probability of each range bin.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from perception.calibration import CameraCalibration
from perception.detections import Detections, ray_covariance
from perception.frames import BoxLabels

RANGE_EDGES_M = (0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 80.0)


@dataclass(frozen=True)
class SensorErrorModel:
    """Per range bin (``range_edges_m``): detection probability, centre error std along and across
    the viewing ray [m], false positives per frame, and the mean score of true and false detections."""

    source: str
    range_edges_m: tuple[float, ...] = RANGE_EDGES_M
    p_detect: tuple[float, ...] = ()
    along_std_m: tuple[float, ...] = ()
    across_std_m: tuple[float, ...] = ()
    fp_per_frame: tuple[float, ...] = ()
    tp_score: tuple[float, ...] = ()
    fp_score: tuple[float, ...] = ()
    size_std_m: float = 0.1
    yaw_std_rad: float = 0.05
    frames: int = 0
    """How many validation frames the fit used."""
    objects: tuple[int, ...] = ()
    """Labelled boxes the sensor could see, per range bin, in those frames (what each bin's fit rests on)."""

    def thin_bins(self, minimum: int = 30) -> list[str]:
        """The range bins (e.g. ``'60-80 m'``) whose fit rests on fewer than ``minimum`` labelled boxes."""
        e = self.range_edges_m
        return [f"{e[i]:g}-{e[i + 1]:g} m" for i, n in enumerate(self.objects) if n < minimum]

    def bin_of(self, range_m: np.ndarray) -> np.ndarray:
        """Bin index per range; -1 outside the modelled ranges."""
        b = np.searchsorted(np.asarray(self.range_edges_m), range_m, side="right") - 1
        return np.where((b >= 0) & (b < len(self.range_edges_m) - 1), b, -1)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def randomised(model: SensorErrorModel, rng: np.random.Generator, spread: float) -> SensorErrorModel:
    """A perturbed copy for domain randomisation: centre-error stds and false positives per frame
    scaled by one log-uniform factor each in [1 / (1 + spread), 1 + spread], detection probabilities
    by one uniform factor in [1 - spread / 2, 1] (at least 0.3 of the fitted value)."""
    if spread <= 0.0:
        return model
    lo, hi = -np.log1p(spread), np.log1p(spread)
    std, fp = np.exp(rng.uniform(lo, hi, 2))
    p = max(1.0 - spread / 2.0, 0.3) + rng.uniform() * min(spread / 2.0, 0.7)
    return replace(model, along_std_m=_scaled(model.along_std_m, std), across_std_m=_scaled(model.across_std_m, std),
                   fp_per_frame=_scaled(model.fp_per_frame, fp), p_detect=_scaled(model.p_detect, p))


def _scaled(values: tuple[float, ...], factor: float) -> tuple[float, ...]:
    return tuple(float(v) * factor for v in values)


def seen_by(model: SensorErrorModel, labels: BoxLabels, camera: CameraCalibration | None) -> np.ndarray:
    """Which boxes the sensor could detect: inside the modelled range (and the image, for a camera)."""
    r = np.hypot(labels.center_m[:, 0], labels.center_m[:, 1])
    ok = model.bin_of(r) >= 0
    if camera is not None and len(labels):
        uv, z = camera.project(labels.center_m)
        ok &= camera.in_image(uv, z)
    return ok


def simulate_detections(model: SensorErrorModel, labels: BoxLabels, stamp: float, rng: np.random.Generator,
                        camera: CameraCalibration | None = None) -> Detections:
    """One frame of surrogate detections (ego frame) from ground-truth boxes."""
    r = np.hypot(labels.center_m[:, 0], labels.center_m[:, 1])
    b = model.bin_of(r)
    keep = seen_by(model, labels, camera)
    keep &= rng.random(len(labels)) < np.asarray(model.p_detect)[np.maximum(b, 0)]
    k = np.flatnonzero(keep)
    along, across = np.asarray(model.along_std_m)[b[k]], np.asarray(model.across_std_m)[b[k]]
    az = np.arctan2(labels.center_m[k, 1], labels.center_m[k, 0])
    ray, normal = np.column_stack([np.cos(az), np.sin(az)]), np.column_stack([-np.sin(az), np.cos(az)])
    center = labels.center_m[k].copy()
    center[:, :2] += ray * (along * rng.standard_normal(len(k)))[:, None] + normal * (across * rng.standard_normal(len(k)))[:, None]
    fp_center, fp_score = _false_positives(model, rng, camera)
    cov = ray_covariance(np.concatenate([az, np.arctan2(fp_center[:, 1], fp_center[:, 0])]),
                          np.concatenate([along, _bin_values(model.along_std_m, model, fp_center)]),
                          np.concatenate([across, _bin_values(model.across_std_m, model, fp_center)]))
    size = np.concatenate([labels.size_m[k] + model.size_std_m * rng.standard_normal((len(k), 3)),
                           np.tile([5.0, 2.0, 1.6], (len(fp_center), 1))])
    yaw = np.concatenate([labels.yaw_rad[k] + model.yaw_std_rad * rng.standard_normal(len(k)),
                          rng.uniform(-0.1, 0.1, len(fp_center))])
    score = np.concatenate([np.asarray(model.tp_score)[b[k]], fp_score])
    return Detections(stamp, model.source, np.concatenate([center, fp_center]), size, yaw, score, cov)


def _false_positives(model: SensorErrorModel, rng: np.random.Generator, camera: CameraCalibration | None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Clutter: a Poisson number per range bin, placed uniformly in range and within the field of view."""
    centers, scores = [], []
    for i, rate in enumerate(model.fp_per_frame):
        for _ in range(rng.poisson(rate)):
            r = rng.uniform(model.range_edges_m[i], model.range_edges_m[i + 1])
            half_fov = np.pi if camera is None else np.arctan(camera.width_px / 2 / camera.K[0, 0])
            a = rng.uniform(-half_fov, half_fov)
            centers.append([r * np.cos(a), r * np.sin(a), 0.8])
            scores.append(model.fp_score[i])
    return np.array(centers, float).reshape(-1, 3), np.array(scores, float)


def _bin_values(values: tuple[float, ...], model: SensorErrorModel, centers: np.ndarray) -> np.ndarray:
    b = model.bin_of(np.hypot(centers[:, 0], centers[:, 1]))
    return np.asarray(values, float)[np.maximum(b, 0)] if len(centers) else np.zeros(0)


def fit_sensor_model(pairs: list[tuple[Detections, BoxLabels]], source: str, camera: CameraCalibration | None,
                     score_threshold: float = 0.3, match_m: float = 4.0,
                     range_edges_m: tuple[float, ...] = RANGE_EDGES_M) -> SensorErrorModel:
    """Fit the error model from a detector's output on labelled frames (greedy matching by score to
    the nearest unmatched box within ``match_m``)."""
    proto = SensorErrorModel(source, tuple(range_edges_m))
    n_bins = len(proto.range_edges_m) - 1
    n_gt, n_tp, n_fp = np.zeros(n_bins), np.zeros(n_bins), np.zeros(n_bins)
    along, across, tp_s, fp_s, size_e, yaw_e = [[] for _ in range(n_bins)], [[] for _ in range(n_bins)], \
        [[] for _ in range(n_bins)], [[] for _ in range(n_bins)], [], []
    for det, labels in pairs:
        seen = seen_by(proto, labels, camera)
        gt_bin = proto.bin_of(np.hypot(labels.center_m[:, 0], labels.center_m[:, 1]))
        np.add.at(n_gt, gt_bin[seen], 1)
        taken = ~seen
        for k in np.flatnonzero(det.score >= score_threshold)[np.argsort(-det.score[det.score >= score_threshold])]:
            c = det.center_m[k, :2]
            dist = np.hypot(*(labels.center_m[:, :2] - c).T)
            d = np.where(taken, np.inf, dist)
            b = int(proto.bin_of(np.array([np.hypot(*c)]))[0])
            if len(d) and d.min() < match_m:
                j = int(np.argmin(d))
                taken[j] = True
                gb = gt_bin[j]
                err, ray = c - labels.center_m[j, :2], labels.center_m[j, :2] / max(np.hypot(*labels.center_m[j, :2]), 1e-6)
                n_tp[gb] += 1
                along[gb].append(err @ ray)
                across[gb].append(err[1] * ray[0] - err[0] * ray[1])
                tp_s[gb].append(det.score[k])
                size_e.append(det.size_m[k] - labels.size_m[j])
                yaw_e.append(np.angle(np.exp(2j * (det.yaw_rad[k] - labels.yaw_rad[j]))) / 2)
            elif b >= 0 and not (len(dist) and dist.min() < match_m):
                n_fp[b] += 1
                fp_s[b].append(det.score[k])
    rms = lambda v, default: float(np.sqrt(np.mean(np.square(v)))) if len(v) >= 3 else default  # noqa: E731
    mean = lambda v, default: float(np.mean(v)) if len(v) else default  # noqa: E731
    frames = max(len(pairs), 1)
    return SensorErrorModel(
        source, proto.range_edges_m,
        p_detect=tuple(float(t / g) if g else 0.0 for t, g in zip(n_tp, n_gt)),
        along_std_m=tuple(rms(v, 1.0) for v in along), across_std_m=tuple(rms(v, 0.5) for v in across),
        fp_per_frame=tuple(float(n / frames) for n in n_fp),
        tp_score=tuple(mean(v, 0.5) for v in tp_s), fp_score=tuple(mean(v, score_threshold) for v in fp_s),
        size_std_m=rms(np.ravel(size_e), 0.1), yaw_std_rad=rms(yaw_e, 0.05), frames=len(pairs),
        objects=tuple(int(g) for g in n_gt))
