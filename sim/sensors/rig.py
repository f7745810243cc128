"""Sensor rig configuration (``configs/sensors/*.yaml``) and the calibrations it defines."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from perception.calibration import CameraCalibration, LidarCalibration, intrinsics, mount_transform
from perception.lookup import Registry
from sim.config import CONFIG_DIR, apply_overrides, from_dict, load_yaml

RIG_DIR = CONFIG_DIR / "sensors"


@dataclass(frozen=True)
class Mount:
    """Sensor position on the ego [m] (ego frame, origin at the vehicle centre on the ground) and
    orientation: yaw (left positive) and pitch (down positive) [deg]."""

    x_m: float = 0.0
    y_m: float = 0.0
    z_m: float = 1.5
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0


@dataclass(frozen=True)
class CameraConfig:
    name: str = "front"
    width_px: int = 320
    height_px: int = 160
    hfov_deg: float = 90.0
    mount: Mount = field(default_factory=Mount)


@dataclass(frozen=True)
class LidarConfig:
    name: str = "roof"
    n_beams: int = 32
    vfov_deg: tuple[float, ...] = (-25.0, 10.0)
    azimuth_resolution_deg: float = 0.5
    max_range_m: float = 100.0
    mount: Mount = field(default_factory=lambda: Mount(z_m=1.9))


@dataclass(frozen=True)
class NoiseConfig:
    """Measurement noise; all zero means perfect sensors."""

    lidar_range_std_m: float = 0.0
    lidar_dropout: float = 0.0
    camera_noise_std: float = 0.0
    """Gaussian pixel noise, in 8-bit grey levels."""
    camera_blur_px: float = 0.0
    """Gaussian blur sigma [px]."""


@dataclass(frozen=True)
class FaultConfig:
    """Whole-sensor faults for robustness tests: blackout windows [start_s, end_s] per sensor
    kind, the probability that a frame is dropped, and delivery latency in ticks."""

    camera_blackout_s: tuple[float, ...] = field(default=(), metadata={"range": (0.0, None)})
    lidar_blackout_s: tuple[float, ...] = field(default=(), metadata={"range": (0.0, None)})
    drop_probability: float = field(default=0.0, metadata={"range": (0.0, 1.0)})
    latency_ticks: int = field(default=0, metadata={"range": (0, 100)})

    def __post_init__(self) -> None:
        for name in ("camera_blackout_s", "lidar_blackout_s"):
            window = getattr(self, name)
            if window and (len(window) != 2 or window[0] >= window[1]):
                raise ValueError(f"config key 'sensors.faults.{name}' must be [start_s, end_s] with start < end, "
                                 f"got {list(window)}")


@dataclass(frozen=True)
class RigConfig:
    cameras: tuple[CameraConfig, ...] = (CameraConfig(),)
    lidars: tuple[LidarConfig, ...] = (LidarConfig(),)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    faults: FaultConfig = field(default_factory=FaultConfig)
    texture_resolution_m: float = 0.2
    """Cell size of the road-surface texture the camera samples [m]."""
    vehicle_height_m: float = 1.6


RIGS: Registry[Path] = Registry("sensor rig", lambda: {p.stem: p for p in RIG_DIR.glob("*.yaml")})
"""Sensor rig YAML files by name (configs/sensors)."""


def load_rig(name: str = "default", overrides: list[str] | None = None) -> RigConfig:
    path = RIGS[name]
    rig = from_dict(RigConfig, apply_overrides(load_yaml(path), overrides or []), "sensors.")
    _validate(rig)
    return rig


def _validate(rig: RigConfig) -> None:
    for cam in rig.cameras:
        if cam.width_px < 8 or cam.height_px < 8 or not 1.0 < cam.hfov_deg < 179.0:
            raise ValueError(f"camera '{cam.name}': need width/height >= 8 px and 1 < hfov_deg < 179")
    for lid in rig.lidars:
        if lid.n_beams < 1 or len(lid.vfov_deg) != 2 or lid.azimuth_resolution_deg <= 0 or lid.max_range_m <= 0:
            raise ValueError(f"lidar '{lid.name}': need n_beams >= 1, vfov_deg [low, high], positive resolution and range")
    for window in (rig.faults.camera_blackout_s, rig.faults.lidar_blackout_s):
        if len(window) not in (0, 2):
            raise ValueError("blackout windows are [start_s, end_s]")


def camera_calibration(cam: CameraConfig) -> CameraCalibration:
    m = cam.mount
    T = mount_transform((m.x_m, m.y_m, m.z_m), np.deg2rad(m.yaw_deg), np.deg2rad(m.pitch_deg), optical=True)
    return CameraCalibration(cam.name, intrinsics(cam.width_px, cam.height_px, np.deg2rad(cam.hfov_deg)),
                             cam.width_px, cam.height_px, T)


def lidar_calibration(lid: LidarConfig) -> LidarCalibration:
    m = lid.mount
    T = mount_transform((m.x_m, m.y_m, m.z_m), np.deg2rad(m.yaw_deg), np.deg2rad(m.pitch_deg))
    return LidarCalibration(lid.name, lid.n_beams, (lid.vfov_deg[0], lid.vfov_deg[1]), lid.azimuth_resolution_deg,
                            lid.max_range_m, T)
