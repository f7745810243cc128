"""Multi-object tracker over 3-D detections from any number of sensors.

One constant-velocity Kalman filter per track, state ``[x_m, y_m, vx_mps, vy_mps]`` in the fixed map
frame, so the ego's own motion never enters the target dynamics: detections (ego frame) are moved to
the map frame with the ego pose before association. Per detection batch (one sensor, one stamp),
after dropping detections under the source's ``min_score``:

0. each detection's covariance is scaled by its source's online factor for its range (``fusion.noise_scale``:
   1 while the source's NIS is calibrated, wider when a degraded sensor's errors outgrow what it reports);
1. association, global (Hungarian) in two passes: confident detections (``min_spawn_score``) first,
   then the weak ones against the tracks still free; the cost is the negative log-likelihood
   d^2 + ln det S plus a box-overlap term (1 - generalised IoU in the bird's-eye view); a pair is
   allowed inside the chi-square gate, or for a confident detection when the boxes overlap, so a
   manoeuvre or an unmodelled sensor motion does not split a track;
2. correction, with the predicted covariance inflated when a confident detection's innovation is
   improbable (d^2 above ``inflate_chi2``; sources with ``inflates`` only, not a monocular camera):
   the filter follows manoeuvres instead of lagging; a source whose errors persist from frame to frame
   (``SensorModel.error_correlation``) updates with its covariance widened along and across the ray by
   as much as that persistence takes from the news in its detections;
3. existence (``fusion.existence``): hits raise it by the source's evidence, sensors that cover a
   track's place and missed it lower it; tracks are born from unmatched detections scoring at least
   the source's ``birth_score`` with the source's prior (a weak one only ``weak_birth_clearance_m``
   clear of every track), and deleted when existence falls below ``delete_existence`` or after
   ``max_coast_s`` unseen. A track that a confirming source (the lidar) should see is withheld after
   ``unconfirmed_frames`` of its frames without a confident detection; its weak detections count
   only for a track it once confirmed.

Output policy (``tracks``): the updated state of every track whose existence is at least
``output_existence``; status "confirmed" when updated this tick, "coasting" when only predicted (for
at most ``output_coast_s`` and while its position variance stays under ``output_coast_var_m2``). Each
output carries its existence probability and a box confidence ``score``: the existence times the score
of the detection that updated it this tick, or times ``coast_score`` when it coasts (KITTI's sAMOTA
ranks boxes by it).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from fusion import existence as ex
from fusion.association import gated_assignment, two_pass_assignment
from fusion.ego_odometry import map_to_ego
from fusion.filtering import detections_to_map, ego_pose_at, inflate_along_ray
from fusion.kernels import (correct_in_place, headings, innovation_matrix, overlap_matrix, predict,
                            resolve_pi_ambiguity)
from fusion.lanes import locate_many
from fusion.noise_scale import NoiseScale
from fusion.sensor_model import SensorModel
from fusion.track_table import TrackTable
from fusion.tracker_config import PRESETS, TRACKER_PRESETS, TrackerConfig, with_preset
from fusion.types import EgoState, LaneMap, Track
from perception.detections import Detections
from perception.geometry import wrap_angle

__all__ = ["MultiObjectTracker", "SensorModel", "TrackerConfig", "gated_assignment", "resolve_pi_ambiguity",
           "wrap_angle", "PRESETS", "TRACKER_PRESETS", "with_preset"]


class MultiObjectTracker:
    """``update(detections, ego, stamp)`` once per tick, then ``tracks(lane_map)``."""

    def __init__(self, config: TrackerConfig = TrackerConfig()) -> None:
        self.config = config
        self._t = TrackTable.rows([])
        self._next_id = 1
        self._time_s: float | None = None
        self._rates: dict[str, ex.DetectionRate] = {}
        """Online detection probability per source and range bin (see ``existence.DetectionRate``)."""
        self._scales: dict[str, NoiseScale] = {}
        """Online covariance factor per source and range bin (see ``noise_scale.NoiseScale``)."""
        self._frame_s: dict[str, float] = {}
        """Stamp of each source's latest frame (batch) [s]."""
        self.nis_log: list[tuple[str, float, float]] | None = None
        """Set to a list to record (source, range [m], d^2) of every associated detection."""

    @property
    def time_s(self) -> float | None:
        """Time the track states refer to [s] (None before the first update)."""
        return self._time_s

    def reset(self) -> None:
        self._t, self._next_id, self._time_s, self._rates, self._frame_s = TrackTable.rows([]), 1, None, {}, {}
        self._scales = {}

    def update(self, detections: Sequence[Detections] | Detections, ego: EgoState,
               stamp: float | None = None) -> None:
        """Fuse one tick: each sensor's batch in stamp order (predict to its stamp, associate, correct,
        update existence, spawn), then predict to ``stamp`` (default ``ego.stamp``) and delete.

        A batch (even an empty one) means its sensor delivered a frame: tracks it should have seen
        lose existence. A sensor without a frame this tick gives no batch and no evidence.
        """
        stamp = ego.stamp if stamp is None else float(stamp)
        batches = [detections] if isinstance(detections, Detections) else list(detections)
        self._t.hit[:] = False
        for batch in sorted(batches, key=lambda b: b.stamp):
            self._predict(batch.stamp)
            self._ingest(batch, ego)
        self._predict(stamp)
        self._delete(stamp)

    def tracks(self, lane_map: LaneMap | None = None) -> tuple[Track, ...]:
        """Tracks at or above the output existence (see the module's output policy), on ``lane_map`` if given."""
        t, c = self._t, self.config
        if not len(t):
            return ()
        coasting = (self._time_s - t.last_hit_s <= c.output_coast_s) & (_largest_var(t.P) <= c.output_coast_var_m2)
        shown = (t.existence >= c.output_existence) & (t.unconfirmed <= c.unconfirmed_frames) & (t.hit | coasting)
        return _output(t, np.flatnonzero(shown), lane_map, c.coast_score)

    # -- prediction ---------------------------------------------------------------------------------
    def _predict(self, t: float) -> None:
        if self._time_s is None:
            self._time_s = t
        dt = t - self._time_s
        if dt <= 0.0:  # same stamp or a late batch: fuse it now  # pragma: no mutate (a dt-0 predict is a no-op)
            return
        tab, c = self._t, self.config
        if len(tab):
            heading = headings(tab.x, tab.P, tab.yaw_rad, c.heading_min_speed_mps)[0]
            tab.x, tab.P = predict(tab.x, tab.P, dt, heading, c.accel_along_std_mps2, c.accel_across_std_mps2)
            tab.existence = ex.after_time(tab.existence, dt, c.survival_per_s)
        self._time_s = t

    # -- one batch ----------------------------------------------------------------------------------
    def _ingest(self, batch: Detections, ego: EgoState) -> None:
        model, pose = self.config.sensor(batch.source), ego_pose_at(ego, batch.stamp)
        self._frame_s[batch.source] = batch.stamp
        sensor_pose = replace(ego, x_m=pose[0], y_m=pose[1], yaw_rad=pose[2], stamp=batch.stamp)
        batch = batch.above(model.min_score)
        strong = batch.score >= self.config.min_spawn_score  # confident; the rest are weak (see the module doc)
        z, R, yaw = detections_to_map(batch, pose, model.floor_m2, model.noise_scale)
        adapts = model.adapts_noise and self.config.noise_adapt_rate > 0.0
        if adapts:
            det_bins = model.coverage(batch.center_m[:, :2])[0]
            R = R * self._scale(model).factor(det_bins)[:, None, None]
        ti, di, d2, iou = self._associate(batch, z, R, yaw, strong, model.box_overlap)
        confident = strong[di]  # weak ones are clutter too often to calibrate the noise by
        if adapts and confident.any():
            self._scale(model).add(det_bins[di[confident]], d2[ti[confident], di[confident]])
        if len(ti):
            self._correct(ti, di, z, R, yaw, batch, d2[ti, di], model, strong, np.asarray(pose[:2]))
        self._existence(model, pose, ti, di, batch.score, strong)
        births = self._births(batch, model, set(di.tolist()), z, R, strong, d2, iou, sensor_pose)
        if births:
            self._t = self._t.extend(TrackTable.rows([self._spawn(z[di], R[di], yaw[di], batch, di, model,
                                                                  bool(strong[di]), pose[2], ego.speed_mps)
                                                      for di in births]))

    def _births(self, batch: Detections, model: SensorModel, matched: set[int], z, R, strong: np.ndarray,
                d2: np.ndarray, iou: np.ndarray, sensor_pose: EgoState) -> list[int]:
        """The unmatched detections that start tracks (see the module doc), one per vehicle: none whose box
        overlaps a track's (a detector's second box on one vehicle; a generalised-IoU test missed those
        offset along the car's length once the boxes' headings differed by a few degrees)."""
        born: list[int] = []
        near_track = (d2 < self.config.spawn_exclusion_chi2).any(0) | (iou > 0.0).any(0)
        for di in np.flatnonzero(batch.score >= model.birth_score).tolist():
            if di in matched:
                continue
            near = bool(near_track[di])
            if not strong[di]:  # a weak detection starts a track only in the clear
                near = near or self._crowded(z[di], [z[b] for b in born])
            near = near or (not model.confirms and self._watched(z[di], sensor_pose))
            if not near and not any(self._duplicate(z[di], R[di], z[b], R[b]) for b in born):
                born.append(di)
        return born

    def _watched(self, z: np.ndarray, sensor_pose: EgoState) -> bool:
        """Whether a confirming source with a frame in the last ``confirming_frame_s`` detects vehicles
        at map position ``z`` at a rate above ``watched_rate`` (its online rate): a non-confirming source's
        lone detection there is a phantom more often than a vehicle the confirming one will not soon
        confirm, and starts no track."""
        rel = map_to_ego(sensor_pose, z[None])
        for source, stamp in self._frame_s.items():
            model = self.config.sensor(source)
            if model.confirms and sensor_pose.stamp - stamp <= self.config.confirming_frame_s:
                bins, inside = model.coverage(rel)
                if inside[0] and self._rate(model).probability(bins)[0] > self.config.watched_rate:
                    return True
        return False

    def _rate(self, model: SensorModel) -> ex.DetectionRate:
        """The source's online detection rate (its sensor model's table until it has looked)."""
        if model.source not in self._rates:
            self._rates[model.source] = ex.DetectionRate(np.asarray(model.p_detect, float))  # pragma: no mutate (it casts)
        return self._rates[model.source]

    def _scale(self, model: SensorModel) -> NoiseScale:
        """The source's online covariance factor (1 until its detections say otherwise)."""
        if model.source not in self._scales:
            self._scales[model.source] = NoiseScale(len(model.p_detect), self.config.noise_adapt_rate)
        return self._scales[model.source]

    def _associate(self, batch: Detections, z: np.ndarray, R: np.ndarray, yaw: np.ndarray, strong: np.ndarray,
                   overlap: bool):
        """Two-pass assignment; returns the pairs' track and detection indices (M,), d^2 and BEV IoU (T, D) of
        the tracks as they stood before it (a spawn-exclusion test for unmatched detections)."""
        c = self.config
        t = self._t
        if not len(t) or not len(batch):
            empty = np.full((len(t), len(batch)), np.inf)  # pragma: no mutate (never read)
            none = np.zeros(0, int)
            return none, none, empty, np.zeros(empty.shape)  # pragma: no mutate (as above)
        d2, log_det = innovation_matrix(t.x, t.P, z, R)
        iou, giou = (overlap_matrix(t.x[:, :2], t.size_m[:, :2], t.yaw_rad, z, batch.size_m[:, :2], yaw) if overlap
                     else (np.zeros(d2.shape), np.full(d2.shape, -1.0)))
        feasible = (d2 <= c.gate_chi2) | ((giou > c.overlap_gate_giou) & strong[None])  # weak ones: gate only
        cost = d2 + log_det + c.overlap_weight * (1.0 - giou)
        return *two_pass_assignment(cost, feasible, strong), d2, iou

    def _crowded(self, xy: np.ndarray, others: list[np.ndarray]) -> bool:
        """Whether a track or a detection born this batch lies within ``weak_birth_clearance_m`` of ``xy``."""
        pts = np.concatenate([self._t.x[:, :2], np.reshape(others, (-1, 2))])
        return len(pts) > 0 and float(np.min(np.hypot(*(pts - xy).T))) < self.config.weak_birth_clearance_m

    def _duplicate(self, za: np.ndarray, Ra: np.ndarray, zb: np.ndarray, Rb: np.ndarray) -> bool:
        """Two detections of one batch close enough to be the same vehicle (one starts a track)."""
        v = za - zb
        return float(v @ np.linalg.solve(Ra + Rb, v)) < self.config.spawn_exclusion_chi2

    def _correct(self, ti: np.ndarray, di: np.ndarray, z, R, yaw, batch: Detections, d2: np.ndarray,
                 model: SensorModel, strong: np.ndarray, sensor_xy: np.ndarray) -> None:
        """Kalman-correct tracks ``ti`` with detections ``di`` (M,), all at once; improbable innovations
        first inflate the predicted covariance (or, from a source that does not ``inflates``, the
        detection's), and the update weighs each detection as its source's frame-to-frame error correlation
        says (``SensorModel.error_correlation``; ``sensor_xy`` (2,) [m] the sensor in the map frame); then
        yaw (pi-ambiguity resolved), size and height."""
        t, c = self._t, self.config
        Rm = R[di]
        if model.inflates:  # weak detections never inflate: their outliers are clutter more often than manoeuvres
            inflate = strong[di] & (d2 > c.inflate_chi2)  # pragma: no mutate (at d2 == inflate_chi2 the factor is 1)
        else:  # the detection is the outlier (a monocular depth error): down-weight it instead
            Rm = Rm * np.maximum(d2 / c.inflate_chi2, 1.0)[:, None, None]
            inflate = np.zeros(len(ti), bool)
        if any(model.error_correlation):  # off for the shipped sources: no per-tick cost then
            Rm = inflate_along_ray(Rm, z[di], sensor_xy, *model.update_inflation)
        correct_in_place(t.x, t.P, t.yaw_rad, ti, z[di], Rm, inflate, c.inflate_chi2, c.max_inflation, yaw[di],
                         model.yaw_gain, c.heading_min_speed_mps)
        t.size_m[ti] += model.size_gain * (batch.size_m[di] - t.size_m[ti])
        t.z_m[ti] += model.size_gain * (batch.center_m[di, 2] - t.z_m[ti])
        score = batch.score[di]
        t.detection_score[ti] = np.where(t.hit[ti], np.maximum(t.detection_score[ti], score), score)
        t.last_hit_s[ti] = np.maximum(t.last_hit_s[ti], batch.stamp)
        t.hit[ti] = True
        if self.nis_log is not None:
            self.nis_log += [(batch.source, float(np.hypot(*batch.center_m[k, :2])), float(v)) for k, v in zip(di, d2)]

    def _existence(self, model: SensorModel, pose: tuple[float, float, float], ti: np.ndarray, di: np.ndarray,
                   score: np.ndarray, strong: np.ndarray) -> None:
        """Hits (tracks ``ti`` detected by ``di``) raise, misses (in view, unoccluded, undetected) lower every
        track's existence; ``pose`` is the ego's (x_m, y_m, yaw_rad) at the batch's stamp."""
        t = self._t
        if not len(t):
            return
        r = t.existence
        bins, inside, visible = model.view(t.x, pose, t.size_m, r >= self.config.output_existence)
        rate = self._rate(model)
        p_det = np.where(inside, rate.probability(bins), 0.0)
        hit, confident_hit = np.zeros(len(r), bool), np.zeros(len(r), bool)  # pragma: no mutate (0/1 floats act the same)
        ratio = np.ones(len(r))
        hit[ti], ratio[ti], confident_hit[ti] = True, model.hit_ratio(score[di]), strong[di]
        sure = inside & (r > 0.99) & (visible > 0.9)  # tracks that tell what the sensor should see
        rate.add(bins[sure], hit[sure])
        seen = p_det * visible
        t.existence = np.where(hit, ex.after_hit(r, np.maximum(ratio * np.maximum(p_det, 0.05), 1e-3)),
                               ex.after_miss(r, seen))
        if model.confirms:  # a weak detection keeps up a confirmed track but confirms none
            t.confirmed |= confident_hit
            t.unconfirmed = np.where(confident_hit | (hit & t.confirmed), 0, t.unconfirmed + (p_det > 0.5))

    def _spawn(self, z, R, yaw_rad: float, batch: Detections, di: int, model: SensorModel, strong: bool,
               ego_yaw_rad: float, ego_speed_mps: float) -> dict:
        """A new track's row (``TrackTable.rows``); its velocity starts at the ego's (most traffic moves with
        the ego; in a sensor frame without ego motion that is zero), with ``init_speed_std_mps`` around it."""
        P = np.zeros((4, 4))
        P[:2, :2] = R
        P[2:, 2:] = self.config.init_speed_std_mps ** 2 * np.eye(2)
        v0 = ego_speed_mps * np.array([np.cos(ego_yaw_rad), np.sin(ego_yaw_rad)])
        self._next_id += 1
        # born unconfirmed from a source that cannot confirm: withheld at the first confirming look that misses it
        return {"ids": self._next_id - 1, "x": [z[0], z[1], *v0], "P": P, "yaw_rad": wrap_angle(yaw_rad),
                "size_m": batch.size_m[di], "z_m": batch.center_m[di, 2],
                "existence": np.clip(model.birth_prior * batch.score[di], ex.R_MIN, ex.R_MAX),
                "last_hit_s": batch.stamp, "confirmed": model.confirms and strong,
                "detection_score": batch.score[di],
                "unconfirmed": 0 if model.confirms else self.config.unconfirmed_frames}

    def _delete(self, stamp: float) -> None:
        """Drop tracks that are unlikely to exist, unseen for too long, or too uncertain in position."""
        t, c = self._t, self.config
        if len(t):
            keep = ((t.existence >= c.delete_existence) & (stamp - t.last_hit_s <= c.max_coast_s)
                    & (_largest_var(t.P) <= c.max_position_var_m2))
            if not keep.all():
                self._t = t.select(keep)



def _output(t: TrackTable, rows: np.ndarray, lane_map: LaneMap | None, coast_score: float) -> tuple[Track, ...]:
    """The world model's tracks from the table's ``rows`` (see the module's output policy)."""
    score = t.existence[rows] * np.where(t.hit[rows], t.detection_score[rows], coast_score)
    places = locate_many(lane_map, t.x[rows, :2]) if lane_map is not None else [None] * len(rows)
    out = []
    for cov, i, (x, y, vx, vy), yaw, (length, width, height), z, e, s, hit, pos in zip(
            t.P[rows], t.ids[rows].tolist(), t.x[rows].tolist(), t.yaw_rad[rows].tolist(),  # t.P[rows]: a copy
            t.size_m[rows].tolist(), t.z_m[rows].tolist(), t.existence[rows].tolist(), score.tolist(),
            t.hit[rows].tolist(), places):
        on_lane = pos is not None and pos.in_lane
        out.append(Track(i, x, y, vx, vy, yaw, length, width, cov, pos.lane_id if on_lane else None,
                         pos.offset_m if on_lane else 0.0, "confirmed" if hit else "coasting", e, z, height, s))
    return tuple(out)


def _largest_var(P: np.ndarray) -> np.ndarray:
    """Largest eigenvalue (T,) of each track's position covariance, from state covariances (T, 4, 4) [m^2]."""
    half_trace, det = 0.5 * (P[:, 0, 0] + P[:, 1, 1]), P[:, 0, 0] * P[:, 1, 1] - P[:, 0, 1] ** 2
    return half_trace + np.sqrt(np.maximum(half_trace ** 2 - det, 0.0))
