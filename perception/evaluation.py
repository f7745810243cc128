"""Detection metrics in the nuScenes style: bird's-eye-view average precision with matches by
centre distance (thresholds 0.5 / 1 / 2 / 4 m), per range bin, plus true-positive errors."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from perception.detections import Detections
from perception.frames import BoxLabels

THRESHOLDS_M = (0.5, 1.0, 2.0, 4.0)
RANGE_BINS_M = ((0.0, 20.0), (20.0, 40.0), (40.0, 60.0))


def detectable(labels: BoxLabels, visibility: str) -> np.ndarray:
    """Ground truth a sensor could possibly detect: with lidar returns, visible in a camera, or either."""
    lidar = labels.lidar_points > 0
    camera = labels.visible_fraction.max(axis=1) > 0.1 if labels.visible_fraction.size else np.zeros(len(labels), bool)
    return {"lidar": lidar, "camera": camera, "any": lidar | camera}[visibility]


@dataclass
class _Matches:
    scores: list
    tp: list
    n_gt: int
    errors: list  # (translation, |size diff| mean, |yaw diff|) of true positives


def _match_frame(det: Detections, labels: BoxLabels, thr: float, lo: float, hi: float, visibility: str,
                 acc: _Matches) -> None:
    gt_xy = labels.center_m[:, :2]
    gt_r = np.hypot(gt_xy[:, 0], gt_xy[:, 1])
    in_bin = (gt_r >= lo) & (gt_r < hi)
    counted = in_bin & detectable(labels, visibility)
    acc.n_gt += int(counted.sum())
    taken: list[int] = []  # indices of the truth already matched in this frame
    for k in np.argsort(-det.score):
        r = float(np.hypot(*det.center_m[k, :2]))
        d = np.hypot(*(gt_xy - det.center_m[k, :2]).T)
        d[taken] = np.inf
        if len(d) and d[j := int(np.argmin(d))] < thr:
            taken.append(j)
            if counted[j]:
                acc.scores.append(det.score[k])
                acc.tp.append(True)
                yaw = np.angle(np.exp(1j * (det.yaw_rad[k] - labels.yaw_rad[j])))
                acc.errors.append((d[j], np.abs(det.size_m[k] - labels.size_m[j]).mean(), abs(yaw)))
            continue  # matched something not counted in this bin (or undetectable): ignore
        if lo <= r < hi:
            acc.scores.append(det.score[k])
            acc.tp.append(False)  # pragma: no mutate (None would read as False too: average_precision casts to bool)


def average_precision(scores: Sequence[float], tp: Sequence[bool], n_gt: int) -> float:
    """Area under the interpolated precision-recall curve (101 recall points)."""
    if n_gt == 0:
        return np.nan
    if len(scores) == 0:
        return 0.0
    as_float = np.asarray(scores, float)  # pragma: no mutate (equivalent on float scores; guards other number types)
    order = np.argsort(-as_float, stable=True)
    hits = np.asarray(tp, bool)[order]
    ctp, cfp = np.cumsum(hits), np.cumsum(~hits)
    recall = ctp / n_gt
    precision = ctp / np.maximum(ctp + cfp, 1)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    points = np.linspace(0.0, 1.0, 101)
    idx = np.searchsorted(recall, points)  # the first detection reaching each recall point
    return float(np.mean(np.append(envelope, 0.0)[idx]))  # a recall never reached has precision 0


def evaluate(pairs: Sequence[tuple[Detections, BoxLabels]], visibility: str = "lidar", max_range_m: float = 50.0,
             thresholds: Sequence[float] = THRESHOLDS_M, bins: Sequence[tuple[float, float]] = RANGE_BINS_M) -> dict:
    """AP per threshold within ``max_range_m`` and per range bin, and TP errors at the 2 m threshold."""
    out: dict = {"ap": {}, "ap_by_range": {}, "visibility": visibility, "max_range_m": max_range_m}
    for thr in thresholds:
        acc = _run(pairs, thr, 0.0, max_range_m, visibility)
        out["ap"][thr] = average_precision(acc.scores, acc.tp, acc.n_gt)
        if thr == 2.0:
            err = np.array(acc.errors)
            out["n_gt"], out["n_tp_at_2m"] = acc.n_gt, len(err)
            out["mean_translation_error_m"], out["mean_size_error_m"], out["mean_yaw_error_rad"] = \
                (float(e) for e in (err.mean(axis=0) if len(err) else [np.nan] * 3))
    for lo, hi in bins:
        key = f"{lo:.0f}-{hi:.0f} m"
        out["ap_by_range"][key] = {t: average_precision(*_unpack(_run(pairs, t, lo, hi, visibility))) for t in thresholds}
    return out


def _run(pairs, thr, lo, hi, visibility) -> _Matches:
    acc = _Matches([], [], 0, [])
    for det, labels in pairs:
        _match_frame(det, labels, thr, lo, hi, visibility, acc)
    return acc


def _unpack(acc: _Matches):
    return acc.scores, acc.tp, acc.n_gt
