"""Ego odometry: noise that perturbs a true ``EgoState`` the way a real odometry source would, and
the map-to-ego frame change."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from fusion.types import EgoState
from perception.geometry import wrap_angle


@dataclass(frozen=True)
class OdometryNoise:
    """Standard deviations of the gaussian noise added to the ego pose and speed (zero: exact)."""

    pos_std_m: float = 0.0
    yaw_std_rad: float = 0.0
    speed_std_mps: float = 0.0

    def apply(self, ego: EgoState, rng: np.random.Generator) -> EgoState:
        return noisy_ego(ego, rng, self.pos_std_m, self.yaw_std_rad, self.speed_std_mps)


def noisy_ego(ego: EgoState, rng: np.random.Generator, pos_std_m: float = 0.0, yaw_std_rad: float = 0.0,
              speed_std_mps: float = 0.0) -> EgoState:
    """``ego`` with gaussian noise on x, y [m], yaw [rad] (wrapped to [-pi, pi) when
    perturbed) and speed [m/s]."""
    dx, dy, dyaw, dv = rng.normal(0.0, 1.0, size=4) * (pos_std_m, pos_std_m, yaw_std_rad, speed_std_mps)
    yaw = wrap_angle(ego.yaw_rad + dyaw) if yaw_std_rad > 0 else ego.yaw_rad
    return replace(ego, x_m=ego.x_m + float(dx), y_m=ego.y_m + float(dy), yaw_rad=float(yaw),
                   speed_mps=ego.speed_mps + float(dv))


def map_to_ego(ego: EgoState, xy_m: np.ndarray) -> np.ndarray:
    """Map-frame points (N, 2) [m] in the ego frame of ``ego`` (anything with x_m, y_m, yaw_rad)."""
    c, s = np.cos(ego.yaw_rad), np.sin(ego.yaw_rad)
    d = np.asarray(xy_m, float).reshape(-1, 2) - np.array([ego.x_m, ego.y_m])
    return np.column_stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]])
