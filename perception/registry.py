"""Detectors by name."""
from __future__ import annotations

from typing import Callable

from perception.classical import ClassicalLidarDetector
from perception.detections import Detector

def _lidar_net() -> Detector:
    from perception.lidar_detector import LidarNetDetector  # torch is imported only when needed

    return LidarNetDetector()


def _camera_net() -> Detector:
    from perception.camera_detector import CameraNetDetector

    return CameraNetDetector()


DETECTORS: dict[str, Callable[[], Detector]] = {
    "classical": ClassicalLidarDetector,
    "lidar": _lidar_net,
    "camera": _camera_net,
}
VISIBILITY = {"classical": "lidar", "lidar": "lidar", "camera": "camera"}
"""Which ground truth each detector is scored against (what its sensor can see)."""


def make_detector(name: str) -> Detector:
    if name not in DETECTORS:
        raise ValueError(f"unknown model '{name}'; valid: {', '.join(sorted(DETECTORS))}")
    return DETECTORS[name]()
