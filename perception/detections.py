"""Detector outputs: 3-D vehicle boxes in the ego frame, and the Detector interface."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from perception.frames import SensorFrame


@dataclass(frozen=True)
class Detections:
    """Boxes found in one sensor frame, all in the ego frame.

    ``center_m`` (N, 3), ``size_m`` (N, 3) length/width/height, ``yaw_rad`` (N,), ``score`` (N,) in
    [0, 1], ``covariance_m2`` (N, 2, 2) of the box centre's x, y [m^2]; ``source`` names the detector.
    """

    stamp: float
    source: str
    center_m: np.ndarray
    size_m: np.ndarray
    yaw_rad: np.ndarray
    score: np.ndarray
    covariance_m2: np.ndarray

    def __len__(self) -> int:
        return len(self.score)

    def above(self, threshold: float) -> "Detections":
        """The boxes scoring at least ``threshold``."""
        keep = self.score >= threshold
        if keep.all():
            return self
        return Detections(self.stamp, self.source, self.center_m[keep], self.size_m[keep], self.yaw_rad[keep],
                          self.score[keep], self.covariance_m2[keep])

    @staticmethod
    def empty(stamp: float, source: str) -> "Detections":
        return Detections(stamp, source, np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0), np.zeros(0),
                          np.zeros((0, 2, 2)))


class Detector(Protocol):
    name: str

    def detect(self, frame: SensorFrame) -> Detections: ...


def ray_covariance(azimuth_rad: np.ndarray, along_std_m: np.ndarray, across_std_m: np.ndarray) -> np.ndarray:
    """(N, 2, 2) ego-frame covariances with the given standard deviations along and across each
    box's viewing ray (azimuth from the ego's x axis) [m]."""
    c, s = np.cos(azimuth_rad), np.sin(azimuth_rad)
    rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
    diag = np.zeros((len(azimuth_rad), 2, 2))
    diag[:, 0, 0], diag[:, 1, 1] = np.square(along_std_m), np.square(across_std_m)
    return rot @ diag @ rot.transpose(0, 2, 1)
