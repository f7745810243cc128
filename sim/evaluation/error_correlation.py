"""Frame-to-frame correlation of each detector's centre errors (``drivestack evaluate-tracking`` reports
it; ``fusion.sensor_model.SensorModel.error_correlation`` takes it). Confident detections are matched
one to one to the labelled vehicles within ``MATCH_M``; each error is split along and across the
viewing ray and paired with the same vehicle's error in that source's previous frame."""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from perception.detections import Detections
from perception.frames import BoxLabels

MATCH_M = 5.0
"""A detection farther than this from every labelled vehicle is not matched [m]."""
MIN_SCORE = 0.5
"""Only detections scoring at least this are matched (the tracker's confident ones)."""
RANGE_BINS_M = ((0.0, 20.0), (20.0, 40.0), (40.0, 80.0), (0.0, 80.0))


def ray_errors(batch: Detections, labels: BoxLabels) -> dict[int, tuple[float, float, float]]:
    """Vehicle id -> (range [m], centre error along, across the viewing ray [m]) of the confident
    detections of ``batch`` matched to ``labels`` (both in the ego frame)."""
    det = batch.center_m[batch.score >= MIN_SCORE, :2]
    truth = labels.center_m[:, :2]
    if not len(det) or not len(truth):
        return {}
    dist = np.linalg.norm(det[:, None] - truth[None], axis=2)
    rows, cols = linear_sum_assignment(np.where(dist < MATCH_M, dist, 1e6))
    out = {}
    for i, j in zip(rows.tolist(), cols.tolist()):
        if dist[i, j] < MATCH_M:
            rng = float(np.hypot(*truth[j]))
            along = truth[j] / max(rng, 1e-6)
            err = det[i] - truth[j]
            out[int(labels.track_id[j])] = (rng, float(err @ along), float(err[1] * along[0] - err[0] * along[1]))
    return out


class ErrorPairs:
    """Lag-one pairs (source, range [m], previous along, along, previous across, across [m]) of one episode."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str, float, float, float, float, float]] = []
        self._last: dict[str, dict[int, tuple[float, float, float]]] = {}

    def add(self, batches: list[Detections], labels: BoxLabels | None) -> None:
        """One tick's delivered batches and the frame's labels (None: no frame, nothing to pair)."""
        if labels is None:
            return
        for batch in batches:
            now, before = ray_errors(batch, labels), self._last.get(batch.source, {})
            self.pairs += [(batch.source, now[k][0], before[k][1], now[k][1], before[k][2], now[k][2])
                           for k in now.keys() & before.keys()]
            self._last[batch.source] = now


def correlation_summary(pairs: list[tuple[str, float, float, float, float, float]]) -> dict[str, dict[str, dict]]:
    """Per source and range bin: pair count, error std and lag-one correlation along and across the ray."""
    out: dict[str, dict[str, dict]] = {}
    for source in sorted({p[0] for p in pairs}):
        rows = np.array([p[1:] for p in pairs if p[0] == source])
        for lo, hi in RANGE_BINS_M:
            sel = rows[(rows[:, 0] >= lo) & (rows[:, 0] < hi)]
            if len(sel) >= 10:
                out.setdefault(source, {})[f"{lo:g}-{hi:g}"] = {
                    "count": len(sel), "along_std_m": float(sel[:, 2].std()), "across_std_m": float(sel[:, 4].std()),
                    "along_rho": float(np.corrcoef(sel[:, 1], sel[:, 2])[0, 1]),
                    "across_rho": float(np.corrcoef(sel[:, 3], sel[:, 4])[0, 1])}
    return out


def format_correlation(summary: dict[str, dict[str, dict]]) -> str:
    lines = [f"Frame-to-frame correlation of centre errors (confident detections within {MATCH_M:g} m of a vehicle; "
             "0: independent frames)",
             f"{'source':<10}{'range m':>9}{'pairs':>8}{'std along':>11}{'rho along':>11}{'std across':>12}"
             f"{'rho across':>12}"]
    for source, bins in summary.items():
        for name, b in bins.items():
            lines.append(f"{source:<10}{name:>9}{b['count']:>8}{b['along_std_m']:>11.2f}{b['along_rho']:>11.2f}"
                         f"{b['across_std_m']:>12.2f}{b['across_rho']:>12.2f}")
    return "\n".join(lines)
