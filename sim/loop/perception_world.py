"""World models built the way the car would: from sensors, detectors and the tracker.

``perception``: rendered camera and lidar frames -> the learned detectors -> the multi-object tracker.
``surrogate``: ground-truth boxes -> the fitted miss / noise / clutter model of each detector
(``configs/surrogate.yaml``) -> the same tracker; no rendering and no networks, for fast RL training.
Both take ego odometry from the simulator with configurable noise and place tracks on the lane map.
"""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from fusion.ego_odometry import OdometryNoise
from fusion.lanes import locate
from fusion.tracker import MultiObjectTracker, TrackerConfig
from fusion.types import LaneMap, WorldModel
from perception.detections import Detections
from perception.frames import BoxLabels, SensorFrame
from perception.registry import DETECTORS, make_detector
from perception.surrogate import SensorErrorModel, simulate_detections
from sim.config import CONFIG_DIR, from_dict, load_yaml
from sim.highway.ground_truth import GroundTruthFrame, ego_state
from sim.sensors.rig import RigConfig, camera_calibration, load_rig
from sim.sensors.simulator import SensorSimulator, scene_vehicles

SURROGATE_FILE = CONFIG_DIR / "surrogate.yaml"


@dataclass(frozen=True)
class PerceptionConfig:
    """How the ``perception`` and ``surrogate`` world models are built (``--set perception.key=value``)."""

    detectors: tuple[str, ...] = ("lidar", "camera")
    score_threshold: float = 0.3
    """Detections below this score are dropped before the tracker."""
    device: str = "cpu"
    odometry: OdometryNoise = field(default_factory=OdometryNoise)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    surrogate_file: str = str(SURROGATE_FILE)


@lru_cache(maxsize=None)
def load_detector(name: str, device: str):
    """``perception.registry.make_detector``, once per process (networks are loaded only once)."""
    if name not in DETECTORS:
        raise ValueError(f"unknown detector '{name}'; valid: {', '.join(sorted(DETECTORS))}")
    return make_detector(name, device=device)


def load_surrogate(path: str | Path) -> dict[str, SensorErrorModel]:
    """Per-sensor error models from the YAML written by ``drivestack fit-surrogate``."""
    data = load_yaml(Path(path))
    return {name: from_dict(SensorErrorModel, spec, f"surrogate.{name}.") for name, spec in data.get("sensors", {}).items()}


class _TrackedWorld:
    """Shared part: odometry, tracker, lane placement, per-module timings [s]."""

    name = ""

    def __init__(self, cfg: PerceptionConfig, rig: RigConfig) -> None:
        self.cfg, self.rig = cfg, rig
        self.tracker = MultiObjectTracker(cfg.tracker)
        self.timings: dict[str, float] = defaultdict(float)
        self.rng = np.random.default_rng(0)

    def reset(self, lane_map: LaneMap, seed: int) -> None:
        self.tracker.reset()
        self.rng = np.random.default_rng(seed + 7_000_000)

    def _world(self, env, gt: GroundTruthFrame, lane_map: LaneMap, route: tuple[str, ...],
               detections: list[Detections]) -> WorldModel:
        t0 = time.perf_counter()
        ego = self.cfg.odometry.apply(ego_state(gt.ego_vehicle, gt.ego, gt.stamp), self.rng)
        kept = [above_score(d, self.cfg.score_threshold) for d in detections]
        self.tracker.update(kept, ego, gt.stamp)
        tracks = self.tracker.tracks(lane_map)
        where = locate(lane_map, ego.x_m, ego.y_m)
        self.timings["tracker"] += time.perf_counter() - t0
        return WorldModel(stamp=gt.stamp, ego=ego, tracks=tracks, lane_map=lane_map,
                          ego_lane_id=where.lane_id if where is not None else gt.ego.lane_id,
                          route_nodes=route, source=self.name)


def above_score(det: Detections, threshold: float) -> Detections:
    keep = det.score >= threshold
    return Detections(det.stamp, det.source, det.center_m[keep], det.size_m[keep], det.yaw_rad[keep], det.score[keep],
                      det.covariance_m2[keep])


class PerceptionWorld(_TrackedWorld):
    name = "perception"

    def __init__(self, cfg: PerceptionConfig = PerceptionConfig(), rig: RigConfig | None = None) -> None:
        super().__init__(cfg, rig or load_rig())
        self.detectors = [load_detector(n, cfg.device) for n in cfg.detectors]
        self.sensors: SensorSimulator | None = None
        self.last_frame: SensorFrame | None = None
        self.last_detections: list[Detections] = []

    def reset(self, lane_map: LaneMap, seed: int) -> None:
        super().reset(lane_map, seed)
        self.sensors = SensorSimulator(self.rig, lane_map, seed)

    def build(self, env, gt: GroundTruthFrame, lane_map: LaneMap, route: tuple[str, ...]) -> WorldModel:
        t0 = time.perf_counter()
        frame = self.sensors.step(gt)
        self.timings["sensors"] += time.perf_counter() - t0
        dets = []
        for det in self.detectors:
            t0 = time.perf_counter()
            dets.append(det.detect(frame))
            self.timings[f"detector_{det.name}"] += time.perf_counter() - t0
        self.last_frame, self.last_detections = frame, dets
        return self._world(env, gt, lane_map, route, dets)


class SurrogateWorld(_TrackedWorld):
    name = "surrogate"

    def __init__(self, cfg: PerceptionConfig = PerceptionConfig(), rig: RigConfig | None = None) -> None:
        super().__init__(cfg, rig or load_rig())
        models = load_surrogate(cfg.surrogate_file)
        missing = [n for n in cfg.detectors if n not in models]
        if missing:
            raise ValueError(f"{cfg.surrogate_file} has no error model for '{missing[0]}'; run drivestack fit-surrogate")
        self.models = [models[n] for n in cfg.detectors]
        self.camera = camera_calibration(self.rig.cameras[0]) if self.rig.cameras else None

    def build(self, env, gt: GroundTruthFrame, lane_map: LaneMap, route: tuple[str, ...]) -> WorldModel:
        t0 = time.perf_counter()
        v = scene_vehicles(gt, self.rig.vehicle_height_m)
        labels = BoxLabels(v.track_id, v.center_m, v.size_m, v.yaw_rad, v.velocity_mps, np.zeros(len(v.track_id)),
                           np.zeros((len(v.track_id), 0)))
        dets = [simulate_detections(m, labels, gt.stamp, self.rng, self.camera if m.source == "camera" else None)
                for m in self.models]
        self.timings["surrogate_detections"] += time.perf_counter() - t0
        return self._world(env, gt, lane_map, route, dets)
