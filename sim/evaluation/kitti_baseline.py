"""Trackers run on KITTI tracking detections: the greedy nearest-neighbour baseline, and the project's
``MultiObjectTracker`` fed through the ego-frame ``Detections`` interface.

Both return, per frame, the tracker's output boxes in KITTI camera coordinates (``KittiBoxes`` with track
ids and scores), ready for :func:`sim.evaluation.kitti_eval.evaluate_kitti` or ``export_kitti``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fusion.tracker import PRESETS, MultiObjectTracker, TrackerConfig
from fusion.types import EgoState, Track
from perception.detections import Detections
from sim.evaluation.kitti_data import KittiBoxes, KittiSequence, make_boxes
from sim.evaluation.kitti_geometry import IMAGE_SIZE_PX, EgoBoxes, camera_to_ego, ego_to_camera, project_to_image

FRAME_PERIOD_S = 0.1
"""KITTI tracking sequences are recorded at 10 Hz."""


# ------------------------------------------------------------------------------------ greedy baseline

@dataclass(frozen=True)
class GreedyConfig:
    """Greedy nearest-neighbour baseline (constant position, no motion model)."""

    gate_m: float = 3.0
    """Largest bird's-eye-view distance between a track and the detection it takes [m]."""
    max_misses: int = 2
    """A track survives this many frames in a row without a detection, and is deleted at the next miss."""


def greedy_baseline(detections: Sequence[KittiBoxes], config: GreedyConfig = GreedyConfig()
                    ) -> tuple[KittiBoxes, ...]:
    """Track Car detections (per frame, index = frame) by greedy BEV nearest neighbour.

    Each track sits where its last detection was. Per frame the closest track-detection pairs within the
    gate are taken first; a matched track outputs that detection's box and score under its id, every
    unmatched detection starts (and is output as) a new track, and a track missing more than
    ``max_misses`` frames in a row is deleted.
    """
    pos = np.zeros((0, 2))
    ids = np.zeros(0, int)
    misses = np.zeros(0, int)
    next_id = 0
    outputs = []
    for dets in detections:
        dets = dets.select(dets.obj_type == "Car")
        det_xz = np.stack([dets.x_m, dets.z_m], 1)
        track_of_det = greedy_pairs(pos, det_xz, config.gate_m)
        hit = np.zeros(len(pos), bool)
        hit[track_of_det[track_of_det >= 0]] = True
        new = track_of_det < 0
        det_ids = np.full(len(dets), -1)
        det_ids[~new] = ids[track_of_det[~new]]
        det_ids[new] = next_id + np.arange(new.sum())
        next_id += int(new.sum())
        pos[track_of_det[~new]] = det_xz[~new]
        misses = np.where(hit, 0, misses + 1)
        alive = misses <= config.max_misses
        pos = np.concatenate([pos[alive], det_xz[new]])
        ids = np.concatenate([ids[alive], det_ids[new]])
        misses = np.concatenate([misses[alive], np.zeros(new.sum(), int)])
        outputs.append(make_boxes(dets.frame, dets.boxes7(), det_ids, dets.score, bbox2d_px=dets.bbox2d_px))
    return tuple(outputs)


def greedy_pairs(track_xy: np.ndarray, det_xy: np.ndarray, gate_m: float) -> np.ndarray:
    """For each detection (D, 2), the index of the track (T, 2) it is paired with, or -1: pairs are taken
    closest first, each track and detection at most once, none farther than ``gate_m``."""
    owner = np.full(len(det_xy), -1)
    if len(track_xy) == 0 or len(det_xy) == 0:
        return owner
    dist = np.linalg.norm(track_xy[:, None] - det_xy[None], axis=2)
    t_idx, d_idx = np.nonzero(dist <= gate_m)
    order = np.argsort(dist[t_idx, d_idx], kind="stable")
    used = np.zeros(len(track_xy), bool)
    for t, d in zip(t_idx[order], d_idx[order]):
        if not used[t] and owner[d] < 0:
            used[t], owner[d] = True, t
    return owner


# --------------------------------------------------------------------------------- project tracker

@dataclass(frozen=True)
class KittiFeedConfig:
    """How KITTI detections are handed to the project's tracker."""

    std_base_m: float = 0.15
    std_per_m: float = 0.005
    """Centre standard deviation of a detection at range r: std_base_m + std_per_m * r [m] (isotropic)."""
    source: str = "pointrcnn"
    """Detector name: the tracker's sensor model of that name applies (``fusion.sensor_model``)."""


def run_project_tracker(sequence: KittiSequence, config: TrackerConfig = PRESETS["sensor_frame"],
                        feed: KittiFeedConfig = KittiFeedConfig()) -> tuple[KittiBoxes, ...]:
    """Run ``MultiObjectTracker`` on one sequence's Car detections with the ego parked at the origin
    (KITTI gives no ego motion, so the camera frame is the map frame) and output, per frame, the
    tracks its output policy releases: box from the track state (centre height and height included),
    score = the track's box confidence (``Track.score``).

    Detections enter in the ego frame with score = sigmoid(logit) and an isotropic centre covariance.
    """
    tracker = MultiObjectTracker(config)
    outputs = []
    for frame, dets in enumerate(sequence.detections):
        dets = dets.select(dets.obj_type == "Car")
        stamp = frame * FRAME_PERIOD_S
        parked = EgoState(stamp=stamp, x_m=0.0, y_m=0.0, yaw_rad=0.0, speed_mps=0.0)
        tracker.update(to_detections(stamp, camera_to_ego(dets.boxes7()), dets.score, feed), parked)
        outputs.append(tracks_to_kitti(frame, tracker.tracks(), sequence.P2))
    return tuple(outputs)


def to_detections(stamp: float, boxes: EgoBoxes, logit: np.ndarray, feed: KittiFeedConfig = KittiFeedConfig()
                  ) -> Detections:
    """Ego-frame ``Detections`` of KITTI boxes: score sigmoid(logit), covariance (base + k * range)^2 I."""
    range_m = np.hypot(boxes.center_m[:, 0], boxes.center_m[:, 1])
    var = np.square(feed.std_base_m + feed.std_per_m * range_m)
    return Detections(stamp=stamp, source=feed.source, center_m=boxes.center_m, size_m=boxes.size_m,
                      yaw_rad=boxes.yaw_rad, score=sigmoid(logit), covariance_m2=var[:, None, None] * np.eye(2)[None])


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, float)))


def tracks_to_kitti(frame: int, tracks: Sequence[Track], P2: np.ndarray) -> KittiBoxes:
    """KITTI camera boxes of the ego-frame tracks whose centre projects into the image (the camera
    labels nothing else); score: log-odds of the track's box confidence."""
    tracks = [t for t in tracks if _in_image(np.array([t.x_m, t.y_m, t.z_m]), P2)]
    ego = EgoBoxes(np.array([[t.x_m, t.y_m, t.z_m] for t in tracks]).reshape(-1, 3),
                   np.array([[t.length_m, t.width_m, t.height_m] for t in tracks]).reshape(-1, 3),
                   np.array([t.yaw_rad for t in tracks]))
    boxes7 = ego_to_camera(ego)
    return make_boxes(frame, boxes7, np.array([t.track_id for t in tracks], int),
                      _log_odds(np.array([t.score for t in tracks])), bbox2d_px=project_to_image(boxes7, P2))


def _log_odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1.0 - 1e-9)
    return np.log(p / (1.0 - p))


def _in_image(center_ego_m: np.ndarray, P2: np.ndarray, image_size_px=IMAGE_SIZE_PX) -> bool:
    cam = np.array([-center_ego_m[1], -center_ego_m[2], center_ego_m[0], 1.0])
    if cam[2] <= 0.5:
        return False
    u, v, w = P2 @ cam
    return 0.0 <= u / w < image_size_px[0] and 0.0 <= v / w < image_size_px[1]
