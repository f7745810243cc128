"""KITTI 3-D multi-object-tracking evaluation (Car), following the KITTI devkit as modified by AB3DMOT
("3D Multi-Object Tracking: A Baseline and New Evaluation Metrics", Weng et al. 2020).

Per frame, ground truth and tracker outputs are matched by the Hungarian method on 3-D IoU (rotated
bird's-eye-view intersection times vertical overlap) with a minimum IoU. Then, as in the devkit:

- ground truth of type Car or Van is loaded, other classes dropped; Van, truncated (> 0) or occluded (> 2)
  ground truth is *ignored*: matching it is neither a TP nor an FP, missing it is not an FN;
- an unmatched output whose image box is <= 25 px tall, or whose image box lies more than half inside a
  DontCare region, is not an FP;
- CLEAR-MOT MOTA = 1 - (FN + FP + IDSW) / n_gt (n_gt: ground truth not ignored); MOTP = mean 3-D IoU of
  all matches (ignored ones included, as AB3DMOT computes it); ID switches and fragmentations are counted
  per ground-truth trajectory with the devkit's rules (:func:`_switches_and_fragments`);
- sAMOTA / AMOTA / AMOTP: tracks whose mean score is below a threshold are removed; the thresholds are
  the scores of matched outputs at 40 recall steps r = 1/40, 2/40, ...; sMOTA(r) = max(0, 1 - (FP + FN +
  IDSW - (1 - r) n_gt) / (r n_gt)), and the averages divide by 40 (recalls never reached count 0);
  MOTA, MOTP, IDSW, FRAG, TP, FP, FN are reported at the sweep threshold with the best MOTA (AB3DMOT's
  "best results with single threshold"). Unlike the devkit, no state leaks from one sweep pass to the
  next (its ``valid`` flags on outputs do); on the shared sequences the figures agree to the count.
- outputs of types other than Car are dropped.

The per-frame IoU matrices are computed once per sequence and reused by every threshold; a frame is
re-matched during the score sweep only when an output it had matched is removed (removing unmatched
outputs leaves the optimal assignment optimal).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from sim.evaluation.kitti_data import (KittiBoxes, KittiSequence, box_corners, observation_angle,
                                       project_to_image)

IOU_THRESHOLDS = (0.25, 0.5, 0.7)


# ------------------------------------------------------------------------------------------------ IoU

def iou3d_pairs(a7: np.ndarray, b7: np.ndarray) -> np.ndarray:
    """3-D IoU (P,) of paired camera boxes ``a7[i]``, ``b7[i]`` (P, 7) ``x, y, z, h, w, l, rot_y``."""
    a7, b7 = np.asarray(a7, float).reshape(-1, 7), np.asarray(b7, float).reshape(-1, 7)
    vol_a, vol_b = np.prod(a7[:, 3:6], 1), np.prod(b7[:, 3:6], 1)
    # Boxes span y - h .. y (y down): the overlap of the two height intervals.
    height = np.clip(np.minimum(a7[:, 1], b7[:, 1]) - np.maximum(a7[:, 1] - a7[:, 3], b7[:, 1] - b7[:, 3]), 0, None)
    reach = 0.5 * (np.hypot(a7[:, 4], a7[:, 5]) + np.hypot(b7[:, 4], b7[:, 5]))
    near = (height > 0) & (np.hypot(a7[:, 0] - b7[:, 0], a7[:, 2] - b7[:, 2]) < reach)
    inter = np.zeros(len(a7))
    if near.any():
        bev_a = box_corners(a7[near])[:, :4][..., [0, 2]]
        bev_b = box_corners(b7[near])[:, :4][..., [0, 2]]
        inter[near] = convex_quad_intersection(bev_a, bev_b) * height[near]
    union = vol_a + vol_b - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def iou3d_matrix(a7: np.ndarray, b7: np.ndarray) -> np.ndarray:
    """3-D IoU (N, M) of every camera box of ``a7`` (N, 7) with every one of ``b7`` (M, 7)."""
    a7, b7 = np.asarray(a7, float).reshape(-1, 7), np.asarray(b7, float).reshape(-1, 7)
    ia, ib = np.meshgrid(np.arange(len(a7)), np.arange(len(b7)), indexing="ij")
    return iou3d_pairs(a7[ia.ravel()], b7[ib.ravel()]).reshape(len(a7), len(b7))


def convex_quad_intersection(a: np.ndarray, b: np.ndarray, eps: float = 1e-9) -> np.ndarray:
    """Intersection areas (P,) of convex quadrilaterals ``a``, ``b`` (P, 4, 2), vertices in order.

    The intersection polygon's vertices are the corners of each inside the other plus the edge crossings;
    sorted by angle about their centroid they give the area by the shoelace formula.
    """
    a_in_b, b_in_a = _inside(a, b, eps), _inside(b, a, eps)
    cross_pts, cross_ok = _edge_crossings(a, b)
    pts = np.concatenate([a, b, cross_pts], 1)
    ok = np.concatenate([a_in_b, b_in_a, cross_ok], 1)
    count = ok.sum(1)
    centre = np.einsum("pk,pkd->pd", ok, pts) / np.maximum(count, 1)[:, None]
    rel = pts - centre[:, None]
    angle = np.where(ok, np.arctan2(rel[..., 1], rel[..., 0]), np.inf)
    order = np.argsort(angle, 1)
    rel = np.take_along_axis(rel, order[..., None], 1)
    ok = np.take_along_axis(ok, order, 1)
    rel = np.where(ok[..., None], rel, rel[:, :1])  # unused slots repeat the first vertex: zero area
    nxt = np.roll(rel, -1, 1)
    area = 0.5 * np.abs(np.sum(rel[..., 0] * nxt[..., 1] - rel[..., 1] * nxt[..., 0], 1))
    return np.where(count >= 3, area, 0.0)


def _inside(points: np.ndarray, poly: np.ndarray, eps: float) -> np.ndarray:
    """(P, K) whether each of ``points`` (P, K, 2) lies in the convex polygon ``poly`` (P, 4, 2)."""
    edge = np.roll(poly, -1, 1) - poly
    rel = points[:, :, None] - poly[:, None]
    cross = edge[:, None, :, 0] * rel[..., 1] - edge[:, None, :, 1] * rel[..., 0]
    scale = np.max(np.abs(edge), axis=(1, 2))[:, None, None] ** 2
    orient = np.sign(np.sum(edge[..., 0] * np.roll(edge, -1, 1)[..., 1]
                            - edge[..., 1] * np.roll(edge, -1, 1)[..., 0], 1))[:, None, None]
    return np.all(orient * cross >= -eps * scale, axis=2)


def _edge_crossings(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Crossing points (P, 16, 2) of every edge of ``a`` with every edge of ``b`` and whether they exist."""
    p, r = a[:, :, None], (np.roll(a, -1, 1) - a)[:, :, None]
    q, s = b[:, None], (np.roll(b, -1, 1) - b)[:, None]
    denom = r[..., 0] * s[..., 1] - r[..., 1] * s[..., 0]
    qp = q - p
    safe = np.where(np.abs(denom) > 1e-12, denom, 1.0)
    t = (qp[..., 0] * s[..., 1] - qp[..., 1] * s[..., 0]) / safe
    u = (qp[..., 0] * r[..., 1] - qp[..., 1] * r[..., 0]) / safe
    ok = (np.abs(denom) > 1e-12) & (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)
    pts = p + t[..., None] * r
    return pts.reshape(len(a), 16, 2), ok.reshape(len(a), 16)


# ------------------------------------------------------------------------------------- configuration

@dataclass(frozen=True)
class EvalRules:
    """What counts (KITTI devkit / AB3DMOT defaults)."""

    max_truncation: float = 0.0
    """Ground truth truncated more than this is ignored."""
    max_occlusion: int = 2
    """Ground truth occluded more than this (3: unknown) is ignored."""
    min_height_px: float = 25.0
    """Unmatched outputs whose image box is this tall or less are not FP [px]."""
    dontcare_overlap: float = 0.5
    """Unmatched outputs with more than this fraction of their image box inside a DontCare region are not FP."""
    n_recall_points: int = 40
    project_outputs: bool = True
    """Image boxes of outputs for the two rules above: the 3-D box projected through P2 (True), or the
    outputs' own ``bbox2d_px`` (False, what the devkit reads from a result file)."""


@dataclass(frozen=True)
class KittiMotResult:
    """Car tracking figures at one IoU threshold. Counts are totals over all sequences; the CLEAR-MOT
    figures are at ``score_threshold``, the one that maximises MOTA (as AB3DMOT reports)."""

    iou_threshold: float
    samota: float
    amota: float
    amotp: float
    mota: float
    motp: float
    idsw: int
    frag: int
    tp: int
    """Matches to ground truth that is not ignored (TP + FN = n_gt)."""
    fp: int
    fn: int
    n_gt: int
    mostly_tracked: float
    mostly_lost: float
    score_threshold: float
    """Track mean-score threshold of the CLEAR-MOT figures (-inf: every output kept)."""


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


# ------------------------------------------------------------------------------------- preparation

@dataclass(frozen=True)
class _Prepared:
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


def _prepare(sequences: Sequence[KittiSequence], outputs: Sequence[Sequence[KittiBoxes]],
             rules: EvalRules) -> _Prepared:
    if len(sequences) != len(outputs):
        raise ValueError(f"{len(outputs)} output sequences for {len(sequences)} sequences")
    gts, outs, dcs, traj_keys, scores = [], [], [], [], []
    for s, (seq, out_seq) in enumerate(zip(sequences, outputs)):
        if len(out_seq) > seq.n_frames:
            raise ValueError(f"sequence {seq.name}: outputs for {len(out_seq)} frames, it has {seq.n_frames}")
        frames = [_frame_outputs(out_seq, f, seq, rules) for f in range(seq.n_frames)]
        mean_score = _track_mean_scores(frames)
        for f, labels in enumerate(seq.labels):
            kind = np.char.lower(labels.obj_type.astype(str))
            gt = labels.select((kind == "car") | (kind == "van"))
            gts.append(gt)
            dcs.append(labels.bbox2d_px[kind == "dontcare"])
            outs.append(frames[f])
            scores.append(mean_score(frames[f].track_id))
            traj_keys.append(np.stack([np.full(len(gt), s), gt.track_id, np.full(len(gt), f)], 1))
    keys = np.concatenate(traj_keys + [np.zeros((0, 3), int)])
    order = np.lexsort((keys[:, 2], keys[:, 1], keys[:, 0]))
    sk = keys[order]
    traj_start = np.ones(len(sk), bool)
    traj_start[1:] = np.any(sk[1:, :2] != sk[:-1, :2], 1)
    return _Prepared(
        gt_frame_start=np.cumsum([0] + [len(g) for g in gts]),
        out_frame_start=np.cumsum([0] + [len(o) for o in outs]),
        gt_ignored=np.concatenate([_ignored_truth(g, rules) for g in gts] + [np.zeros(0, bool)]),
        traj_order=order, traj_start=traj_start,
        out_track=np.concatenate([o.track_id for o in outs] + [np.zeros(0, int)]),
        out_ignorable=np.concatenate([_ignorable_output(o, dc, rules) for o, dc in zip(outs, dcs)]
                                     + [np.zeros(0, bool)]),
        out_score=np.concatenate(scores + [np.zeros(0)]),
        ious=_frame_ious(gts, outs),
    )


def _frame_outputs(out_seq: Sequence[KittiBoxes], f: int, seq: KittiSequence, rules: EvalRules) -> KittiBoxes:
    if f >= len(out_seq):
        return KittiBoxes.empty(f)
    out = out_seq[f]
    out = out.select(np.char.lower(out.obj_type.astype(str)) == "car")
    if len(np.unique(out.track_id)) != len(out) or np.any(out.track_id < 0):
        raise ValueError(f"sequence {seq.name} frame {f}: track ids must be unique and >= 0")
    if rules.project_outputs:
        out = replace(out, bbox2d_px=project_to_image(out.boxes7(), seq.P2))
    return out


def _track_mean_scores(frames: list[KittiBoxes]):
    """A function mapping track ids (array) to the mean score of that track's outputs in ``frames``."""
    ids = np.concatenate([f.track_id for f in frames] + [np.zeros(0, int)])
    sc = np.concatenate([f.score for f in frames] + [np.zeros(0)])
    uniq, inverse = np.unique(ids, return_inverse=True)
    means = np.bincount(inverse, sc, len(uniq)) / np.maximum(np.bincount(inverse, minlength=len(uniq)), 1)
    return lambda track_ids: means[np.searchsorted(uniq, track_ids)]


def _ignored_truth(gt: KittiBoxes, rules: EvalRules) -> np.ndarray:
    van = np.char.lower(gt.obj_type.astype(str)) == "van"
    return van | (gt.truncated > rules.max_truncation) | (gt.occluded > rules.max_occlusion)


def _ignorable_output(out: KittiBoxes, dontcare_px: np.ndarray, rules: EvalRules) -> np.ndarray:
    box = out.bbox2d_px
    small = np.abs(box[:, 3] - box[:, 1]) <= rules.min_height_px
    if len(dontcare_px) == 0 or len(out) == 0:
        return small
    iw = np.minimum(box[:, None, 2], dontcare_px[None, :, 2]) - np.maximum(box[:, None, 0], dontcare_px[None, :, 0])
    ih = np.minimum(box[:, None, 3], dontcare_px[None, :, 3]) - np.maximum(box[:, None, 1], dontcare_px[None, :, 1])
    inter = np.where((iw > 0) & (ih > 0), iw * ih, 0.0)
    area = ((box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1]))[:, None]
    inside = np.any(inter > rules.dontcare_overlap * area, axis=1)
    return small | inside


def _frame_ious(gts: list[KittiBoxes], outs: list[KittiBoxes]) -> tuple[np.ndarray, ...]:
    """Per-frame IoU matrices, computed for all frames' pairs in one vectorised batch."""
    gi, oi, shapes = [], [], []
    g_off = o_off = 0
    for g, o in zip(gts, outs):
        a, b = np.meshgrid(np.arange(len(g)), np.arange(len(o)), indexing="ij")
        gi.append(a.ravel() + g_off)
        oi.append(b.ravel() + o_off)
        shapes.append((len(g), len(o)))
        g_off, o_off = g_off + len(g), o_off + len(o)
    g7 = np.concatenate([g.boxes7() for g in gts] + [np.zeros((0, 7))])
    o7 = np.concatenate([o.boxes7() for o in outs] + [np.zeros((0, 7))])
    gi, oi = np.concatenate(gi + [np.zeros(0, int)]), np.concatenate(oi + [np.zeros(0, int)])
    flat = np.concatenate([iou3d_pairs(g7[gi[k:k + 200_000]], o7[oi[k:k + 200_000]])
                           for k in range(0, len(gi), 200_000)] + [np.zeros(0)])
    ends = np.cumsum([n * m for n, m in shapes])
    return tuple(block.reshape(shape) for block, shape in zip(np.split(flat, ends[:-1]), shapes))


# ---------------------------------------------------------------------------------------- matching

class _FrameMatcher:
    """Per-frame Hungarian matches at one IoU threshold over the outputs still kept."""

    def __init__(self, prep: _Prepared, iou_threshold: float) -> None:
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
        idsw, frag = _switches_and_fragments(assigned, p.gt_ignored[p.traj_order], p.traj_start)
        mt, ml = _mostly_tracked_lost(assigned, p.gt_ignored[p.traj_order], p.traj_start)
        return ClearMot(
            mota=1.0 - (fn + fp + idsw) / n_gt if n_gt else -np.inf,
            motp=float(self.match_iou[matched].sum() / n_matches) if n_matches else 0.0,
            idsw=idsw, frag=frag, tp=tp, fp=fp, fn=fn, n_gt=n_gt, n_matches=n_matches,
            mostly_tracked=mt, mostly_lost=ml)


def _switches_and_fragments(track: np.ndarray, ignored: np.ndarray, start: np.ndarray) -> tuple[int, int]:
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


def _mostly_tracked_lost(track: np.ndarray, ignored: np.ndarray, start: np.ndarray) -> tuple[float, float]:
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


# ------------------------------------------------------------------------------------- evaluation

def recall_score_thresholds(scores: np.ndarray, num_gt: int, n_points: int = 40
                            ) -> tuple[np.ndarray, np.ndarray]:
    """AB3DMOT's sweep: the scores (descending) of matched outputs at which the recall first reaches
    1/n, 2/n, ... of ``num_gt`` (each taken where the recall is nearest), and those nominal recalls."""
    s = np.sort(np.asarray(scores, float))[::-1]
    thresholds, recalls, current = [], [], 0.0
    for i, score in enumerate(s):
        left = (i + 1) / num_gt
        right = (i + 2) / num_gt if i < len(s) - 1 else left
        if right - current < current - left and i < len(s) - 1:
            continue
        thresholds.append(score)
        recalls.append(current)
        current += 1.0 / n_points
    return np.array(thresholds[1:]), np.array(recalls[1:])  # the first point is recall 0


def smota(m: ClearMot, recall: float) -> float:
    """Scaled MOTA at a recall point (AB3DMOT eq. 3), clipped to [0, 1]."""
    if m.n_gt == 0:
        return 0.0
    return float(np.clip(1.0 - (m.fn + m.fp + m.idsw - (1.0 - recall) * m.n_gt) / (recall * m.n_gt), 0.0, 1.0))


def evaluate_kitti(sequences: Sequence[KittiSequence], outputs: Sequence[Sequence[KittiBoxes]],
                   iou_thresholds: Sequence[float] = IOU_THRESHOLDS, rules: EvalRules = EvalRules()
                   ) -> tuple[KittiMotResult, ...]:
    """Car tracking figures of ``outputs`` (per sequence, per frame: the tracker's boxes, with track ids
    and scores, index = frame) against the sequences' labels, one result per IoU threshold."""
    prep = _prepare(sequences, outputs, rules)
    return tuple(_evaluate_at(prep, float(t), rules) for t in iou_thresholds)


def clear_mot(sequences: Sequence[KittiSequence], outputs: Sequence[Sequence[KittiBoxes]],
              iou_threshold: float = 0.25, score_threshold: float = -np.inf,
              rules: EvalRules = EvalRules()) -> ClearMot:
    """CLEAR-MOT figures with tracks of mean score below ``score_threshold`` removed (none by default)."""
    prep = _prepare(sequences, outputs, rules)
    matcher = _FrameMatcher(prep, iou_threshold)
    matcher.keep(prep.out_score >= score_threshold)
    return matcher.clear_mot()


def _evaluate_at(prep: _Prepared, iou_threshold: float, rules: EvalRules) -> KittiMotResult:
    matcher = _FrameMatcher(prep, iou_threshold)
    everything = matcher.clear_mot()
    matched_scores = prep.out_score[matcher.gt_match[matcher.gt_match >= 0]]
    thresholds, recalls = recall_score_thresholds(matched_scores, everything.n_matches + everything.fn,
                                                  rules.n_recall_points)
    at: dict[float, ClearMot] = {}
    for t in np.unique(thresholds):  # ascending: the kept set only shrinks
        matcher.keep(prep.out_score >= t)
        at[float(t)] = matcher.clear_mot()
    sweep = [at[float(t)] for t in thresholds]
    best_threshold, best, best_mota = -np.inf, everything, 0.0
    for t, m in zip(thresholds, sweep):  # AB3DMOT: the first strict MOTA maximum above 0, in recall order
        if m.mota > best_mota:
            best_threshold, best, best_mota = float(t), m, m.mota
    n = rules.n_recall_points
    return KittiMotResult(
        iou_threshold=iou_threshold,
        samota=sum(smota(m, r) for m, r in zip(sweep, recalls)) / n,
        amota=sum(m.mota for m in sweep) / n, amotp=sum(m.motp for m in sweep) / n,
        mota=best.mota, motp=best.motp, idsw=best.idsw, frag=best.frag, tp=best.tp, fp=best.fp, fn=best.fn,
        n_gt=best.n_gt, mostly_tracked=best.mostly_tracked, mostly_lost=best.mostly_lost,
        score_threshold=best_threshold)


def format_table(results: Sequence[KittiMotResult], title: str = "") -> str:
    """One row per IoU threshold; percentages for the ratio metrics."""
    head = (f"{'IoU':>5} {'sAMOTA':>7} {'AMOTA':>7} {'AMOTP':>7} {'MOTA':>7} {'MOTP':>7} {'MT':>6} {'ML':>6} "
            f"{'IDSW':>5} {'FRAG':>5} {'TP':>6} {'FP':>6} {'FN':>6} {'score>=':>8}")
    rows = [f"{r.iou_threshold:5.2f} {100 * r.samota:7.2f} {100 * r.amota:7.2f} {100 * r.amotp:7.2f} "
            f"{100 * r.mota:7.2f} {100 * r.motp:7.2f} {100 * r.mostly_tracked:6.2f} {100 * r.mostly_lost:6.2f} "
            f"{r.idsw:5d} {r.frag:5d} {r.tp:6d} {r.fp:6d} {r.fn:6d} {r.score_threshold:8.3f}" for r in results]
    return "\n".join(([title] if title else []) + [head] + rows)


def export_kitti(directory: Path | str, sequence: str, outputs: Sequence[KittiBoxes]) -> Path:
    """Write ``outputs`` (per frame) as ``<directory>/<sequence>.txt`` in the KITTI tracking result format
    (``frame id type truncated occluded alpha x1 y1 x2 y2 h w l x y z rot_y score``), which the KITTI /
    AB3DMOT devkit reads. Returns the file's path."""
    path = Path(directory) / f"{sequence}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for out in outputs:
        alpha = observation_angle(out.boxes7())
        for i in range(len(out)):
            x1, y1, x2, y2 = out.bbox2d_px[i]
            lines.append(f"{out.frame} {out.track_id[i]} {out.obj_type[i]} 0 0 {alpha[i]:.6f} "
                         f"{x1:.4f} {y1:.4f} {x2:.4f} {y2:.4f} {out.h_m[i]:.6f} {out.w_m[i]:.6f} {out.l_m[i]:.6f} "
                         f"{out.x_m[i]:.6f} {out.y_m[i]:.6f} {out.z_m[i]:.6f} {out.rot_y_rad[i]:.6f} "
                         f"{out.score[i]:.6f}")
    path.write_text("\n".join(lines) + ("\n" if lines else ""))
    return path
