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
  per ground-truth trajectory with the devkit's rules (:mod:`sim.evaluation.kitti_matching`);
- sAMOTA / AMOTA / AMOTP: tracks whose mean score is below a threshold are removed; the thresholds are
  the scores of matched outputs at 40 recall steps r = 1/40, 2/40, ...; sMOTA(r) = max(0, 1 - (FP + FN +
  IDSW - (1 - r) n_gt) / (r n_gt)), and the averages divide by 40 (recalls never reached count 0);
  MOTA, MOTP, IDSW, FRAG, TP, FP, FN are reported at the sweep threshold with the best MOTA (AB3DMOT's
  "best results with single threshold"). Unlike the devkit, no state leaks from one sweep pass to the
  next (its ``valid`` flags on outputs do); on the shared sequences the figures agree to the count.
- outputs of types other than Car are dropped.

The per-frame IoU matrices (:mod:`sim.evaluation.kitti_geometry`) are computed once per sequence and
reused by every threshold; a frame is re-matched during the score sweep only when an output it had matched
is removed (:class:`~sim.evaluation.kitti_matching.FrameMatcher`).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sim.evaluation.kitti_data import KittiBoxes, KittiSequence
from sim.evaluation.kitti_geometry import iou3d_pairs, observation_angle, project_to_image
from sim.evaluation.kitti_matching import ClearMot, FrameMatcher, Prepared

IOU_THRESHOLDS = (0.25, 0.5, 0.7)


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


# ------------------------------------------------------------------------------------- preparation

def _prepare(sequences: Sequence[KittiSequence], outputs: Sequence[Sequence[KittiBoxes]],
             rules: EvalRules) -> Prepared:
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
    return Prepared(
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
    matcher = FrameMatcher(prep, iou_threshold)
    matcher.keep(prep.out_score >= score_threshold)
    return matcher.clear_mot()


def _evaluate_at(prep: Prepared, iou_threshold: float, rules: EvalRules) -> KittiMotResult:
    matcher = FrameMatcher(prep, iou_threshold)
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
