"""World-model sources, chosen by name; all produce the same ``WorldModel`` through ``fusion.world``.

``ground_truth``: the simulator's privileged state (the upper bound).
``perception``: the tick's rendered camera and lidar frames -> the learned detectors -> the tracker.
``surrogate``: ground-truth boxes -> the fitted miss / noise / clutter model of each detector
(``configs/surrogate.yaml``) -> the same tracker; no rendering and no networks, for fast RL training.
The tracked sources take ego odometry from the simulator with configurable noise.

A source never renders sensors itself: the tick renders the frame once (``needs_sensors``) and
hands it in, so the video and the log recorder see the very frame the detectors saw.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from fusion.ego_odometry import OdometryNoise
from fusion.tracker import TrackerConfig, with_preset
from fusion.types import LaneMap, WorldModel
from fusion.world import WorldBuilder, world_model
from perception.detections import Detections
from perception.frames import BoxLabels, SensorFrame
from perception.lookup import Registry
from perception.registry import DETECTORS, delivered_batches, make_detector
from perception.surrogate import SensorErrorModel, randomised, simulate_detections
from sim.config import CONFIG_DIR, from_dict, load_yaml
from sim.highway.ground_truth import GroundTruthFrame, make_track
from sim.sensors.rig import RigConfig, camera_calibration, load_rig
from sim.sensors.simulator import scene_vehicles

SURROGATE_FILE = CONFIG_DIR / "surrogate.yaml"


@dataclass(frozen=True)
class PerceptionConfig:
    """How the ``perception`` and ``surrogate`` world models are built (``--set perception.key=value``)."""

    detectors: tuple[str, ...] = ("lidar", "camera")
    score_threshold: float = 0.2
    """Detections below this score are dropped before the tracker (whose sensor models set a floor per
    source on top: ``SensorModel.min_score``)."""
    device: str = "cpu"
    runtime: str = "onnxruntime"
    """Inference runtime of the networks: ``torch`` or ``onnxruntime`` (CPU; see perception.onnx_runtime)."""
    precision: str = "auto"
    """``auto``: int8 where the weights have their calibrated int8 model beside them (the shipped ones
    do; onnxruntime on the CPU only), else fp32; or ``fp32``, or ``int8`` (onnxruntime only)."""
    lidar_weights: str = ""
    """Lidar network weights ("": the shipped ``perception/weights/lidar.pt``)."""
    camera_weights: str = ""
    """Camera network weights ("": the shipped ``perception/weights/camera.pt``)."""
    concurrent: bool = True
    """Run the detectors of a tick at the same time, one thread each (the runtimes release the GIL)."""
    odometry: OdometryNoise = field(default_factory=OdometryNoise)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    tracker_preset: str = "ego_motion"
    """``fusion.tracker.PRESETS`` name; the ``tracker`` fields set explicitly win over it."""
    surrogate_file: str = str(SURROGATE_FILE)
    surrogate_randomise: float = field(default=0.0, metadata={"range": (0.0, 4.0)})
    """Domain randomisation of the surrogate (``perception.surrogate.randomised``): each episode draws
    its error models' scale factors within this spread (0: the fitted models as they are)."""

    @property
    def tracker_config(self) -> TrackerConfig:
        return with_preset(self.tracker_preset, self.tracker)


@dataclass(frozen=True)
class WorldEstimate:
    """What a source produced at one tick: the world model, the detections that fed it (None when
    no detector ran) and the time per stage [s]."""

    world: WorldModel
    detections: tuple[Detections, ...] | None = None
    timings_s: dict[str, float] = field(default_factory=dict)


class WorldSource(Protocol):
    name: str
    needs_sensors: bool
    """Whether ``build`` needs the tick's rendered sensor frame."""

    def reset(self, lane_map: LaneMap, seed: int) -> None: ...

    def build(self, gt: GroundTruthFrame, frame: SensorFrame | None, route_nodes: tuple[str, ...]) -> WorldEstimate: ...


@lru_cache(maxsize=None)
def load_detector(name: str, device: str, runtime: str = "onnxruntime", precision: str = "auto", weights: str = ""):
    """``perception.registry.make_detector``, once per process (networks are loaded only once)."""
    extra = {"weights": weights} if weights else {}
    return make_detector(DETECTORS.check(name), device=device, runtime=runtime, precision=precision, **extra)


def configured_detectors(cfg: PerceptionConfig) -> dict:
    """The configured detectors by name, on the configured device, runtime and precision."""
    weights = {"lidar": cfg.lidar_weights, "camera": cfg.camera_weights}
    return {n: load_detector(n, cfg.device, cfg.runtime, cfg.precision, weights.get(n, "")) for n in cfg.detectors}


def load_surrogate(path: str | Path) -> dict[str, SensorErrorModel]:
    """Per-sensor error models from the YAML written by ``drivestack fit-surrogate``."""
    data = load_yaml(Path(path))
    return {name: from_dict(SensorErrorModel, spec, f"surrogate.{name}.") for name, spec in data.get("sensors", {}).items()}


class GroundTruthWorld:
    """The simulator's privileged state as the world model."""

    name = "ground_truth"
    needs_sensors = False

    def __init__(self, cfg: PerceptionConfig | None = None, rig: RigConfig | None = None) -> None:
        self.lane_map: LaneMap | None = None

    def reset(self, lane_map: LaneMap, seed: int) -> None:
        self.lane_map = lane_map

    def build(self, gt: GroundTruthFrame, frame: SensorFrame | None, route_nodes: tuple[str, ...]) -> WorldEstimate:
        tracks = tuple(make_track(i, s) for i, (_, s) in zip(gt.ids, gt.others))
        ego = gt.ego_state
        return WorldEstimate(world_model(ego, tracks, self.lane_map, route_nodes, self.name, gt.ego.lane_id,
                                         locate_ego=False))


class _TrackedWorld:
    """Shared part of the tracked sources: odometry noise and the fusion world builder."""

    name = ""
    needs_sensors = False

    def __init__(self, cfg: PerceptionConfig, rig: RigConfig) -> None:
        self.cfg, self.rig = cfg, rig
        self.builder = WorldBuilder(cfg.tracker_config, cfg.score_threshold, self.name)
        self.rng = np.random.default_rng(0)
        self.lane_map: LaneMap | None = None

    def reset(self, lane_map: LaneMap, seed: int) -> None:
        self.builder.reset()
        self.lane_map = lane_map
        self.rng = np.random.default_rng(seed + 7_000_000)

    def _fuse(self, gt: GroundTruthFrame, route: tuple[str, ...], detections: list[Detections],
              timings: dict[str, float], fused: list[Detections] | None = None) -> WorldEstimate:
        """World model from ``fused`` (default: all ``detections``); the estimate keeps them all."""
        t0 = time.perf_counter()
        ego = self.cfg.odometry.apply(gt.ego_state, self.rng)
        world = self.builder.update(detections if fused is None else fused, ego, self.lane_map, route, gt.ego.lane_id)
        timings["tracker"] = time.perf_counter() - t0
        return WorldEstimate(world, tuple(detections), timings)


class PerceptionWorld(_TrackedWorld):
    name = "perception"
    needs_sensors = True

    def __init__(self, cfg: PerceptionConfig = PerceptionConfig(), rig: RigConfig | None = None) -> None:
        super().__init__(cfg, rig or load_rig())
        self.detectors = list(configured_detectors(cfg).values())
        self._pool: ThreadPoolExecutor | None = None

    def build(self, gt: GroundTruthFrame, frame: SensorFrame | None, route: tuple[str, ...]) -> WorldEstimate:
        if frame is None:
            raise ValueError("the perception world model needs the tick's sensor frame")
        if self.cfg.concurrent and len(self.detectors) > 1:
            self._pool = self._pool or ThreadPoolExecutor(len(self.detectors), thread_name_prefix="detector")
            runs = list(self._pool.map(lambda det: _timed_detect(det, frame), self.detectors))
        else:
            runs = [_timed_detect(det, frame) for det in self.detectors]
        dets = [d for d, _ in runs]
        timings = {f"detector_{det.name}": s for det, (_, s) in zip(self.detectors, runs)}
        return self._fuse(gt, route, dets, timings, delivered_batches(dets, frame))


def _timed_detect(det, frame: SensorFrame) -> tuple[Detections, float]:
    t0 = time.perf_counter()
    return det.detect(frame), time.perf_counter() - t0


class SurrogateWorld(_TrackedWorld):
    name = "surrogate"

    def __init__(self, cfg: PerceptionConfig = PerceptionConfig(), rig: RigConfig | None = None) -> None:
        super().__init__(cfg, rig or load_rig())
        models = load_surrogate(cfg.surrogate_file)
        missing = [n for n in cfg.detectors if n not in models]
        if missing:
            raise ValueError(f"{cfg.surrogate_file} has no error model for '{missing[0]}'; run drivestack fit-surrogate")
        self.fitted = [models[n] for n in cfg.detectors]
        self.models = self.fitted
        self.camera = camera_calibration(self.rig.cameras[0]) if self.rig.cameras else None

    def reset(self, lane_map: LaneMap, seed: int) -> None:
        super().reset(lane_map, seed)
        self.models = [randomised(m, self.rng, self.cfg.surrogate_randomise) for m in self.fitted]

    def build(self, gt: GroundTruthFrame, frame: SensorFrame | None, route: tuple[str, ...]) -> WorldEstimate:
        t0 = time.perf_counter()
        v = scene_vehicles(gt, self.rig.vehicle_height_m)
        labels = BoxLabels(v.track_id, v.center_m, v.size_m, v.yaw_rad, v.velocity_mps, np.zeros(len(v.track_id)),
                           np.zeros((len(v.track_id), 0)))
        dets = [simulate_detections(m, labels, gt.stamp, self.rng, self.camera if m.source == "camera" else None)
                for m in self.models]
        return self._fuse(gt, route, dets, {"surrogate_detections": time.perf_counter() - t0})


WORLD_SOURCES: Registry[Callable[[PerceptionConfig, RigConfig | None], WorldSource]] = Registry("world model", {
    "ground_truth": GroundTruthWorld,
    "perception": PerceptionWorld,
    "surrogate": SurrogateWorld,
})


def make_world_source(name: str, cfg: PerceptionConfig | None = None, rig: RigConfig | None = None) -> WorldSource:
    return WORLD_SOURCES[name](cfg or PerceptionConfig(), rig)
