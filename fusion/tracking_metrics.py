"""Multi-object tracking metrics: CLEAR-MOT (MOTA, MOTP, ID switches) and identity (IDF1).

Our own implementation (py-motmetrics 1.4 does not run on NumPy 2). Ground truth and hypotheses
are matched on Euclidean centre distance [m] in any common frame (the map frame, usually).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

DEFAULT_RANGE_BINS_M = ((0.0, 20.0), (20.0, 40.0), (40.0, 60.0))
_FORBIDDEN_COST = 1e9
"""Assignment cost of a pair farther apart than the threshold (any cost above every allowed sum works)."""


@dataclass
class _Counts:
    """CLEAR-MOT event counts of one range bin (or of everything)."""

    num_gt: int = 0
    num_matches: int = 0
    num_misses: int = 0
    num_false_positives: int = 0
    num_switches: int = 0
    distance_sum_m: float = 0.0

    def as_dict(self) -> dict:
        errors = self.num_misses + self.num_false_positives + self.num_switches
        detected = self.num_matches + self.num_false_positives
        return {
            "mota": _ratio(self.num_gt - errors, self.num_gt),
            "motp_m": _ratio(self.distance_sum_m, self.num_matches),
            "precision": _ratio(self.num_matches, detected),
            "recall": _ratio(self.num_matches, self.num_gt),
            "num_gt": self.num_gt,
            "num_matches": self.num_matches,
            "num_misses": self.num_misses,
            "num_false_positives": self.num_false_positives,
            "num_switches": self.num_switches,
        }


class MotAccumulator:
    """Accumulates frames, then ``summary()`` gives MOTA, MOTP, ID switches, IDF1, per range bin too.

    A ground-truth object beyond ``max_range_m`` of the ego is don't-care: a hypothesis matched to it
    is no false positive, and a miss of it is no miss; an unmatched hypothesis beyond it is ignored.
    Range bins are [low, high) [m]; a ground truth (and its match) counts in the bin of its range, a
    false positive in the bin of its own range.
    """

    def __init__(self, threshold_m: float = 2.0, max_range_m: float = 50.0,
                 range_bins_m: Sequence[tuple[float, float]] = DEFAULT_RANGE_BINS_M) -> None:
        self.threshold_m = threshold_m
        self.max_range_m = max_range_m
        self.range_bins_m = tuple((float(lo), float(hi)) for lo, hi in range_bins_m)
        self.num_frames = 0
        self._total = _Counts()
        self._bins = [_Counts() for _ in self.range_bins_m]
        self._last_match: dict[Hashable, Hashable] = {}
        self._gt_frames: Counter = Counter()
        self._hyp_frames: Counter = Counter()
        self._pair_frames: Counter = Counter()

    def add_frame(self, gt_ids: Sequence[Hashable], gt_xy: np.ndarray, hyp_ids: Sequence[Hashable],
                  hyp_xy: np.ndarray, ego_xy: Sequence[float] = (0.0, 0.0), gt_ignore: np.ndarray | None = None) -> None:
        """One frame: ids with (N, 2) centre positions [m] and the ego position [m] ranges count from.
        ``gt_ignore`` (N,) marks ground truth that is don't-care in this frame (e.g. seen by no sensor),
        treated like ground truth beyond range."""
        gt_ids, hyp_ids = list(gt_ids), list(hyp_ids)
        if len(set(gt_ids)) < len(gt_ids) or len(set(hyp_ids)) < len(hyp_ids):
            raise ValueError("ids must be unique within a frame")
        gt_xy, hyp_xy = _points(gt_xy, len(gt_ids)), _points(hyp_xy, len(hyp_ids))
        dist = np.linalg.norm(gt_xy[:, None, :] - hyp_xy[None, :, :], axis=-1)
        ego = np.asarray(ego_xy, dtype=float)  # pragma: no mutate (equivalent: the positions are float already)
        gt_range = np.linalg.norm(gt_xy - ego, axis=1)
        hyp_range = np.linalg.norm(hyp_xy - ego, axis=1)
        if gt_ignore is not None:
            ignore = np.asarray(gt_ignore, bool)  # pragma: no mutate (equivalent: np.where reads 0/1 the same)
            gt_range = np.where(ignore, np.inf, gt_range)
        pairs = self._match(gt_ids, hyp_ids, dist)
        counted_hyps = self._count_events(gt_ids, hyp_ids, pairs, dist, gt_range, hyp_range)
        self._count_identities(gt_ids, hyp_ids, dist, gt_range <= self.max_range_m, counted_hyps)
        self.num_frames += 1

    def summary(self) -> dict:
        """JSON-friendly dict of floats and ints (None where a ratio is undefined), with ``by_range``."""
        out = self._total.as_dict()
        out.update(self._identity())
        out["num_frames"] = self.num_frames
        out["by_range"] = {f"{lo:g}-{hi:g}": c.as_dict() for (lo, hi), c in zip(self.range_bins_m, self._bins)}
        return out

    def _match(self, gt_ids: list, hyp_ids: list, dist: np.ndarray) -> list[tuple[int, int]]:
        """CLEAR-MOT matching: keep last correspondences still within the threshold, then Hungarian."""
        hyp_index = {h: j for j, h in enumerate(hyp_ids)}
        pairs: list[tuple[int, int]] = []
        for i, g in enumerate(gt_ids):
            j = hyp_index.get(self._last_match.get(g))
            if j is not None and j not in {pj for _, pj in pairs} and dist[i, j] <= self.threshold_m:
                pairs.append((i, j))
        kept_g, kept_h = {i for i, _ in pairs}, {j for _, j in pairs}
        free_g = [i for i in range(len(gt_ids)) if i not in kept_g]
        free_h = [j for j in range(len(hyp_ids)) if j not in kept_h]
        sub = dist[np.ix_(free_g, free_h)]
        if sub.size:
            ok = sub <= self.threshold_m
            rows, cols = linear_sum_assignment(np.where(ok, sub, _FORBIDDEN_COST))
            pairs += [(free_g[r], free_h[c]) for r, c in zip(rows, cols) if ok[r, c]]
        return pairs

    def _count_events(self, gt_ids: list, hyp_ids: list, pairs: list[tuple[int, int]], dist: np.ndarray,
                      gt_range: np.ndarray, hyp_range: np.ndarray) -> list[int]:
        """Add matches, misses, false positives and switches; return the hypotheses that count."""
        counted, matched_g, matched_h = [], {i for i, _ in pairs}, {j for _, j in pairs}
        for i, j in pairs:
            g, h = gt_ids[i], hyp_ids[j]
            switched = self._last_match.get(g, h) != h
            self._last_match[g] = h
            if gt_range[i] > self.max_range_m:
                continue  # don't-care ground truth: neither match nor false positive
            counted.append(j)
            for c in self._counts_at(gt_range[i]):
                c.num_gt += 1
                c.num_matches += 1
                c.distance_sum_m += float(dist[i, j])
                c.num_switches += int(switched)
        for i in range(len(gt_ids)):
            if i not in matched_g and gt_range[i] <= self.max_range_m:
                for c in self._counts_at(gt_range[i]):
                    c.num_gt += 1
                    c.num_misses += 1
        for j in range(len(hyp_ids)):
            if j not in matched_h and hyp_range[j] <= self.max_range_m:
                counted.append(j)
                for c in self._counts_at(hyp_range[j]):
                    c.num_false_positives += 1
        return counted

    def _counts_at(self, range_m: float) -> list[_Counts]:
        return [self._total] + [c for (lo, hi), c in zip(self.range_bins_m, self._bins) if lo <= range_m < hi]

    def _count_identities(self, gt_ids: list, hyp_ids: list, dist: np.ndarray, gt_care: np.ndarray,
                          counted_hyps: list[int]) -> None:
        cared = [i for i in range(len(gt_ids)) if gt_care[i]]
        self._gt_frames.update(gt_ids[i] for i in cared)
        self._hyp_frames.update(hyp_ids[j] for j in counted_hyps)
        self._pair_frames.update((gt_ids[i], hyp_ids[j]) for i in cared for j in counted_hyps
                                 if dist[i, j] <= self.threshold_m)

    def _identity(self) -> dict:
        """IDF1 from the sequence-wide gt-id to hypothesis-id matching that maximises IDTP."""
        gts, hyps = list(self._gt_frames), list(self._hyp_frames)
        together = np.zeros((len(gts), len(hyps)))
        g_index, h_index = {g: i for i, g in enumerate(gts)}, {h: j for j, h in enumerate(hyps)}
        for (g, h), n in self._pair_frames.items():
            together[g_index[g], h_index[h]] = n
        rows, cols = linear_sum_assignment(-together)  # empty arrays when there is nothing to match
        idtp = int(together[rows, cols].sum())
        idfn = sum(self._gt_frames.values()) - idtp
        idfp = sum(self._hyp_frames.values()) - idtp
        return {"idf1": _ratio(2 * idtp, 2 * idtp + idfp + idfn), "idp": _ratio(idtp, idtp + idfp),
                "idr": _ratio(idtp, idtp + idfn), "idtp": idtp, "idfp": idfp, "idfn": idfn,
                "num_objects": len(gts), "num_hypotheses": len(hyps)}


def _points(xy: np.ndarray, n: int) -> np.ndarray:
    pts = np.asarray(xy, dtype=float).reshape(-1, 2)  # pragma: no mutate (equivalent: int input, -2 reads as -1)
    if len(pts) != n:
        raise ValueError(f"{n} ids but {len(pts)} positions")
    return pts


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None
