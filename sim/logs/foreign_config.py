"""What reading a foreign log needs from the user: the topic map (``--topics lidar=/points,...``) and
the calibration (``--calib FILE``, defaults: the default rig ``configs/sensors/default.yaml``).

The calibration YAML (every key optional; a key left out keeps the default rig's value)::

    camera:                  # keys of a rig camera (configs/sensors/*.yaml)
      name: front
      width_px: 320
      height_px: 160
      hfov_deg: 90.0         # square pixels, principal point at the centre ...
      K: [fx, 0, cx, 0, fy, cy, 0, 0, 1]   # ... or the full intrinsics, row-major [px]
      mount: {x_m: 1.0, y_m: 0.0, z_m: 1.4, yaw_deg: 0.0, pitch_deg: 2.0}
    lidar:                   # keys of a rig lidar
      name: roof
      mount: {x_m: 0.0, y_m: 0.0, z_m: 1.9}
    ego: {length_m: 5.0, width_m: 2.0}
    sync_tolerance_s: 0.05   # a camera image or pose joins a lidar sweep within this [s]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from perception.calibration import CameraCalibration, LidarCalibration
from sim.config import from_dict, load_yaml, to_dict
from sim.logs.foreign_decode import KINDS
from sim.sensors.rig import CameraConfig, LidarConfig, camera_calibration, lidar_calibration, load_rig


@dataclass(frozen=True)
class TopicMap:
    """Foreign topics by role; ``lidar`` or ``camera`` is needed (ticks follow the lidar, else the camera)."""

    lidar: str | None = None
    camera: str | None = None
    pose: str | None = None

    def items(self) -> list[tuple[str, str]]:
        return [(k, getattr(self, k)) for k in KINDS if getattr(self, k) is not None]

    @property
    def clock(self) -> str:
        """The role whose messages make the ticks."""
        return "lidar" if self.lidar is not None else "camera"


def parse_topics(spec: str) -> TopicMap:
    """``lidar=/points,camera=/image,pose=/odom`` -> TopicMap; ValueError on a malformed spec."""
    out: dict[str, str] = {}
    for item in (s.strip() for s in spec.split(",")):
        key, sep, topic = item.partition("=")
        key, topic = key.strip(), topic.strip()
        if not sep or not key or not topic:
            raise ValueError(f"--topics takes ROLE=TOPIC pairs separated by commas (e.g. lidar=/points,camera=/image), "
                             f"got '{item}'")
        if key not in KINDS:
            raise ValueError(f"--topics role '{key}' is unknown; roles: {', '.join(KINDS)}")
        if key in out:
            raise ValueError(f"--topics names role '{key}' twice")
        out[key] = topic
    topics = TopicMap(**out)
    if topics.lidar is None and topics.camera is None:
        raise ValueError("--topics needs lidar=TOPIC or camera=TOPIC: the ticks follow the lidar sweeps (else the images)")
    return topics


@dataclass(frozen=True)
class EgoSize:
    length_m: float = 5.0
    width_m: float = 2.0


@dataclass(frozen=True)
class CalibFile:
    """The ``--calib`` YAML as typed sections (``camera``/``lidar`` are merged over the default rig)."""

    camera: Mapping = field(default_factory=dict)
    lidar: Mapping = field(default_factory=dict)
    ego: EgoSize = field(default_factory=EgoSize)
    sync_tolerance_s: float = field(default=0.05, metadata={"range": ((0.0,), None)})


@dataclass(frozen=True)
class ForeignCalibration:
    """Calibrations of the foreign log's sensors, the ego's size and the sync tolerance [s]."""

    camera: CameraCalibration
    lidar: LidarCalibration
    ego: EgoSize
    sync_tolerance_s: float
    source: str
    """Where the values came from (the YAML file, or the default rig)."""


def load_calibration(path: str | Path | None = None) -> ForeignCalibration:
    rig = load_rig()
    if path is None:
        return ForeignCalibration(camera_calibration(rig.cameras[0]), lidar_calibration(rig.lidars[0]), EgoSize(),
                                  0.05, "the default rig (configs/sensors/default.yaml)")
    if not Path(path).is_file():
        raise ValueError(f"--calib {path}: file not found")
    data = load_yaml(Path(path)) or {}
    raw = from_dict(CalibFile, data, "calib.")
    cam_keys = dict(raw.camera)
    K = cam_keys.pop("K", None)
    cam = from_dict(CameraConfig, _merge(to_dict(rig.cameras[0]), cam_keys), "calib.camera.")
    lid = from_dict(LidarConfig, _merge(to_dict(rig.lidars[0]), dict(raw.lidar)), "calib.lidar.")
    camera = camera_calibration(cam)
    if K is not None:
        camera = CameraCalibration(camera.name, _intrinsics(K), camera.width_px, camera.height_px,
                                   camera.T_ego_from_sensor)
    return ForeignCalibration(camera, lidar_calibration(lid), raw.ego, raw.sync_tolerance_s, str(path))


def _merge(base: dict, given: Mapping) -> dict:
    out = dict(base)
    for key, value in given.items():
        out[key] = _merge(base[key], value) if isinstance(value, Mapping) and isinstance(base.get(key), dict) else value
    return out


def _intrinsics(K) -> np.ndarray:
    try:
        arr = np.asarray(K, dtype=float).reshape(3, 3)
    except (TypeError, ValueError):
        raise ValueError(f"config key 'calib.camera.K' must be 9 numbers (3x3 row-major) [px], got {K!r}") from None
    if not np.isfinite(arr).all() or arr[0, 0] <= 0 or arr[1, 1] <= 0:
        raise ValueError("config key 'calib.camera.K' needs positive focal lengths fx = K[0], fy = K[4]")
    return arr
