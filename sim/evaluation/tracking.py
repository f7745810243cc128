"""Tracking accuracy of the perception stack against simulator ground truth (``drivestack
evaluate-tracking``): the ego drives on ground truth while the sensors, detectors and one tracker per
sensor set run in shadow on the same frames, so every sensor set sees the identical drive."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusion.ego_odometry import map_to_ego
from fusion.tracking_metrics import MotAccumulator
from fusion.world import WorldBuilder
from perception.registry import delivered_batches
from sim.evaluation.error_correlation import ErrorPairs
from sim.loop.setup import RunSetup, open_env
from sim.loop.tick import Episode
from sim.loop.world_sources import configured_detectors

SENSOR_SETS = {"lidar+camera": ("lidar", "camera"), "lidar": ("lidar",), "camera": ("camera",)}


@dataclass(frozen=True)
class TrackingJob:
    setup: RunSetup
    seed: int
    max_range_m: float = 50.0
    window_s: tuple[float, float] | None = None
    """Score only the frames stamped inside [start, end] [s] (trackers run throughout)."""


@dataclass(frozen=True)
class EpisodeTracking:
    """One shadow episode: an accumulator per sensor set, and the normalised innovation squared of
    every detection the fused set's tracker associated, as (source, range [m], d^2)."""

    accumulators: dict[str, MotAccumulator]
    nis: tuple[tuple[str, float, float], ...]
    seed: int = -1
    error_pairs: tuple[tuple[str, float, float, float, float, float], ...] = ()
    """Lag-one detection error pairs (``sim.evaluation.error_correlation.ErrorPairs``)."""


def track_episode(job: TrackingJob) -> EpisodeTracking:
    """One shadow episode, one tracker per sensor set (the sets whose detectors the perception config
    lists). Ground truth that no sensor of the set sees in a frame (no lidar return, under 10 %
    visible in the camera) is don't-care there."""
    setup, cfg = job.setup, job.setup.perception
    sets = {k: used for k, used in SENSOR_SETS.items() if set(used) <= set(cfg.detectors)}
    nets = configured_detectors(cfg)
    builders = {k: WorldBuilder(cfg.tracker_config, cfg.score_threshold) for k in sets}
    nis_log = builders[next(iter(sets))].tracker.nis_log = []
    accs = {k: MotAccumulator(2.0, job.max_range_m) for k in sets}
    errors = ErrorPairs()
    env = open_env(setup)
    try:
        episode = Episode(env, setup, job.seed, sensors=True)
        while True:
            record = episode.tick()
            gt, frame = record.ground_truth, record.frame
            dets = delivered_batches([net.detect(frame) for net in nets.values()], frame)
            errors.add(dets, frame.labels)
            for name, used in sets.items():
                world = builders[name].update([d for d in dets if d.source in used], gt.ego_state, None)
                if job.window_s is None or job.window_s[0] <= gt.stamp <= job.window_s[1]:
                    _score_frame(accs[name], world.tracks, frame.labels, gt.ego_state, used)
            if record.terminated or record.truncated:
                break
    finally:
        env.close()
    return EpisodeTracking(accs, tuple(nis_log), job.seed, tuple(errors.pairs))


NIS_BINS_M = ((0.0, 20.0), (20.0, 40.0), (40.0, 80.0))


def nis_summary(nis: list[tuple[str, float, float]]) -> dict[str, dict[str, dict]]:
    """Per source and range bin: count, mean NIS (2 expected for a calibrated 2-D measurement) and the
    share inside the chi-square 95 % bound (0.95 expected)."""
    out: dict[str, dict[str, dict]] = {}
    for source in sorted({s for s, _, _ in nis}):
        for lo, hi in NIS_BINS_M:
            d2 = np.array([v for s, r, v in nis if s == source and lo <= r < hi])
            if len(d2):
                out.setdefault(source, {})[f"{lo:g}-{hi:g}"] = {
                    "count": len(d2), "mean_nis": float(d2.mean()), "median_nis": float(np.median(d2)),
                    "inside_95": float(np.mean(d2 <= 5.991))}
    return out


def format_nis(summary: dict[str, dict[str, dict]]) -> str:
    lines = ["NIS of associated detections (calibrated: mean 2.0, median 1.39, 95 % inside the chi-square bound)",
             f"{'source':<10}{'range m':>9}{'count':>8}{'mean':>8}{'median':>8}{'inside 95%':>12}"]
    for source, bins in summary.items():
        for name, b in bins.items():
            lines.append(f"{source:<10}{name:>9}{b['count']:>8}{b['mean_nis']:>8.2f}{b['median_nis']:>8.2f}"
                         f"{b['inside_95']:>12.3f}")
    return "\n".join(lines)


def _score_frame(acc: MotAccumulator, tracks, labels, ego, used: tuple[str, ...]) -> None:
    if labels is None:  # every sensor dropped this frame: no labels to score against
        return
    seen = np.zeros(len(labels), bool)
    if "lidar" in used:
        seen |= labels.lidar_points > 0
    if "camera" in used and labels.visible_fraction.size:
        seen |= labels.visible_fraction.max(axis=1) >= 0.1
    hyp = map_to_ego(ego, np.array([[t.x_m, t.y_m] for t in tracks]))
    acc.add_frame(labels.track_id.tolist(), labels.center_m[:, :2], [t.track_id for t in tracks], hyp,
                  gt_ignore=~seen)


def combine(summaries: list[dict]) -> dict:
    """Pool per-episode summaries (sums of events; IDF1 from the pooled identity counts)."""
    def pooled(parts: list[dict]) -> dict:
        tot = {k: sum(p[k] for p in parts) for k in ("num_gt", "num_matches", "num_misses", "num_false_positives",
                                                     "num_switches")}
        dist = sum((p["motp_m"] or 0.0) * p["num_matches"] for p in parts)
        errors = tot["num_misses"] + tot["num_false_positives"] + tot["num_switches"]
        out = {**tot, "mota": 1.0 - errors / tot["num_gt"] if tot["num_gt"] else None,
               "motp_m": dist / tot["num_matches"] if tot["num_matches"] else None}
        if "idtp" in parts[0]:
            idtp, idfp, idfn = (sum(p[k] for p in parts) for k in ("idtp", "idfp", "idfn"))
            out["idf1"] = 2 * idtp / (2 * idtp + idfp + idfn) if idtp + idfp + idfn else None
        return out
    result = pooled(summaries)
    result["by_range"] = {b: pooled([s["by_range"][b] for s in summaries]) for b in summaries[0]["by_range"]}
    return result


def format_tracking(results: dict[str, dict], episodes: int, scenario: str) -> str:
    lines = [f"tracking on {episodes} {scenario} episodes, within 50 m (centre distance 2 m; ground truth seen by "
             f"no sensor of the set is don't-care)",
             f"{'sensors':<14}{'MOTA':>7}{'IDF1':>7}{'MOTP m':>8}{'IDsw':>6}{'FP':>7}{'miss':>7}{'GT':>8}"
             f"{'MOTA 0-20':>11}{'20-40':>7}{'40-60':>7}"]
    fmt = lambda v: f"{v:.3f}" if v is not None else "-"  # noqa: E731
    for name, r in results.items():
        bins = "".join(f"{fmt(b['mota']):>7}" for b in r["by_range"].values())
        lines.append(f"{name:<14}{fmt(r['mota']):>7}{fmt(r['idf1']):>7}{fmt(r['motp_m']):>8}{r['num_switches']:>6}"
                     f"{r['num_false_positives']:>7}{r['num_misses']:>7}{r['num_gt']:>8}{bins[:7]:>11}{bins[7:]}")
    return "\n".join(lines)
