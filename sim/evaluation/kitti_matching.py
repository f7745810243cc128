"""Per-frame matching of ground truth to tracker outputs and the CLEAR-MOT counts of one evaluation pass
(one IoU threshold, one set of kept outputs), the KITTI devkit's rules as modified by AB3DMOT.

Per frame, ground truth and outputs are matched by the Hungarian method on 3-D IoU with a minimum IoU.
MOTA = 1 - (FN + FP + IDSW) / n_gt (n_gt: ground truth not ignored); MOTP = mean 3-D IoU of all matches
(ignored ones included, as AB3DMOT computes it); ID switches, fragmentations and mostly tracked / lost are
counted per ground-truth trajectory (:func:`switches_and_fragments`, :func:`mostly_tracked_lost`).

When outputs are removed (the score sweep), a frame is re-matched only if an output it had matched is
removed: removing unmatched outputs leaves the optimal assignment optimal.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment


# ------------------------------------------------------------------------------------------- types

@dataclass(frozen=True)
class ClearMot:
    """CLEAR-MOT figures of one evaluation pass (one IoU and one score threshold)."""

    mota: float
    motp: float
    idsw: int
    frag: int
    tp: int
    fp: int
    fn: int
    n_gt: int
    n_matches: int
    """Matches including those to ignored ground truth (AB3DMOT's recall denominator uses them)."""
    mostly_tracked: float
    mostly_lost: float


@dataclass(frozen=True)
class Prepared:
    """Every sequence's ground truth and outputs flattened into instance arrays, with the per-frame IoU
    matrices; built once, reused by every IoU and score threshold."""

    gt_frame_start: np.ndarray
    """(F + 1,) offsets of each frame's ground truth in the gt arrays (frames of all sequences in order)."""
    out_frame_start: np.ndarray
    gt_ignored: np.ndarray
    """(G,) bool."""
    traj_order: np.ndarray
    """(G,) ground-truth instances ordered by (sequence, gt track id, frame)."""
    traj_start: np.ndarray
    """(G,) bool, in ``traj_order``: first instance of a trajectory."""
    out_track: np.ndarray
    """(T,) track id of each output."""
    out_ignorable: np.ndarray
    """(T,) bool: not an FP when unmatched (small, or inside DontCare)."""
    out_score: np.ndarray
    """(T,) mean score of the output's track."""
    ious: tuple[np.ndarray, ...]
    """Per frame (G_f, T_f) 3-D IoU."""


# ---------------------------------------------------------------------------------------- matching

class FrameMatcher:
    """Per-frame Hungarian matches at one IoU threshold over the outputs still kept."""

    def __init__(self, prep: Prepared, iou_threshold: float) -> None:
        self.prep, self.iou_threshold = prep, iou_threshold
        n_out = len(prep.out_track)
        self.kept = np.ones(n_out, bool)
        self.gt_match = np.full(len(prep.gt_ignored), -1)
        """Index of the output matched to each ground-truth instance, -1 if none."""
        self.match_iou = np.zeros(len(prep.gt_ignored))
        self.out_frame = np.repeat(np.arange(len(prep.ious)), np.diff(prep.out_frame_start))
        for f in range(len(prep.ious)):
            self._match(f)

    def keep(self, kept: np.ndarray) -> None:
        """Restrict to ``kept`` outputs (a subset of those kept so far); re-match only the frames that
        lost a matched output."""
        removed = self.kept & ~kept
        self.kept = self.kept & kept
        matched_out = np.zeros(len(self.kept), bool)
        matched_out[self.gt_match[self.gt_match >= 0]] = True
        for f in np.unique(self.out_frame[removed & matched_out]):
            self._match(f)

    def _match(self, f: int) -> None:
        g0, g1 = self.prep.gt_frame_start[f:f + 2]
        o0 = self.prep.out_frame_start[f]
        self.gt_match[g0:g1], self.match_iou[g0:g1] = -1, 0.0
        iou = self.prep.ious[f]
        cols = np.flatnonzero(self.kept[o0:o0 + iou.shape[1]])
        iou = iou[:, cols]
        feasible = iou >= self.iou_threshold
        if not feasible.any():
            return
        if feasible.sum(0).max() <= 1 and feasible.sum(1).max() <= 1:  # no competition: nothing to solve
            rows, picks = np.nonzero(feasible)
        else:
            rows, picks = linear_sum_assignment(np.where(feasible, 1.0 - iou, 1e9))
            ok = feasible[rows, picks]
            rows, picks = rows[ok], picks[ok]
        self.gt_match[g0 + rows] = o0 + cols[picks]
        self.match_iou[g0 + rows] = iou[rows, picks]

    def clear_mot(self) -> ClearMot:
        p = self.prep
        matched = self.gt_match >= 0
        counted = ~p.gt_ignored
        out_matched = np.zeros(len(self.kept), bool)
        out_matched[self.gt_match[matched]] = True
        n_gt, n_matches = int(counted.sum()), int(matched.sum())
        tp, fn = int((matched & counted).sum()), int((~matched & counted).sum())
        fp = int((self.kept & ~out_matched & ~p.out_ignorable).sum())
        assigned = np.where(matched, p.out_track[np.maximum(self.gt_match, 0)], -1)[p.traj_order]
        idsw, frag = switches_and_fragments(assigned, p.gt_ignored[p.traj_order], p.traj_start)
        mt, ml = mostly_tracked_lost(assigned, p.gt_ignored[p.traj_order], p.traj_start)
        return ClearMot(
            mota=1.0 - (fn + fp + idsw) / n_gt if n_gt else -np.inf,
            motp=float(self.match_iou[matched].sum() / n_matches) if n_matches else 0.0,
            idsw=idsw, frag=frag, tp=tp, fp=fp, fn=fn, n_gt=n_gt, n_matches=n_matches,
            mostly_tracked=mt, mostly_lost=ml)


# ---------------------------------------------------------------------------- per-trajectory counts

def switches_and_fragments(track: np.ndarray, ignored: np.ndarray, start: np.ndarray) -> tuple[int, int]:
    """ID switches and fragmentations of ground-truth trajectories, the KITTI devkit's rules.

    ``track`` (G,) is the output track matched to each ground-truth instance (-1: missed), ``ignored``
    (G,) its ignore flag, instances ordered by trajectory then frame, ``start`` (G,) marking each
    trajectory's first one. Along a trajectory, ``last`` is the track of the latest matched instance since
    the last ignored one. A non-ignored instance matched to a track other than ``last``, right after a
    matched instance, is an ID switch; one whose track differs from the previous instance's while ``last``
    exists is a fragmentation when the next instance is matched too (the last instance needs no next).
    """
    n = len(track)
    if n == 0:
        return 0, 0
    event = start | ignored | (track != -1)
    value = np.where(start, track, np.where(ignored, -1, track))
    latest = np.maximum.accumulate(np.where(event, np.arange(n), 0))
    last = np.concatenate([[-1], value[latest][:-1]])
    prev = np.concatenate([[-1], track[:-1]])
    nxt = np.concatenate([track[1:], [-1]])
    end = np.concatenate([start[1:], [True]])
    body = ~start & ~ignored & (track != -1)
    idsw = body & (last != track) & (last != -1) & (prev != -1)
    frag_mid = body & ~end & (prev != track) & (last != -1) & (nxt != -1)
    frag_end = body & end & (prev != track)
    return int(idsw.sum()), int(frag_mid.sum() + frag_end.sum())


def mostly_tracked_lost(track: np.ndarray, ignored: np.ndarray, start: np.ndarray) -> tuple[float, float]:
    """Fractions of trajectories (all-ignored ones left out) tracked > 80 % and < 20 % of their frames."""
    if len(track) == 0:
        return 0.0, 0.0
    seg = np.cumsum(start) - 1
    n_seg = int(seg[-1]) + 1
    length = np.bincount(seg, minlength=n_seg)
    n_ignored = np.bincount(seg, ignored, n_seg)
    tracked = np.bincount(seg, (track != -1) & (start | ~ignored), n_seg)
    ever = np.bincount(seg, track != -1, n_seg) > 0
    live = n_ignored < length
    ratio = tracked / np.maximum(length - n_ignored, 1)
    mostly_lost = live & (~ever | (ratio < 0.2))
    mostly_tracked = live & ever & (ratio > 0.8)
    n_live = max(int(live.sum()), 1)
    return float(mostly_tracked.sum() / n_live), float(mostly_lost.sum() / n_live)
