"""Detectors by name."""
from __future__ import annotations

from typing import Callable

from perception.classical import ClassicalLidarDetector
from perception.detections import Detector


def _lidar_net(**options) -> Detector:
    from perception.lidar_detector import LidarNetDetector  # torch is imported only when needed

    return LidarNetDetector(**options)


def _camera_net(**options) -> Detector:
    from perception.camera_detector import CameraNetDetector

    return CameraNetDetector(**options)


DETECTORS: dict[str, Callable[..., Detector]] = {
    "classical": lambda **_: ClassicalLidarDetector(),
    "lidar": _lidar_net,
    "camera": _camera_net,
}
VISIBILITY = {"classical": "lidar", "lidar": "lidar", "camera": "camera"}
"""Which ground truth each detector is scored against (what its sensor can see)."""


def make_detector(name: str, **options) -> Detector:
    """``options`` go to the networks (``weights``, ``device``, ``bf16``, ``threshold``); the classical
    detector takes none."""
    if name not in DETECTORS:
        raise ValueError(f"unknown model '{name}'; valid: {', '.join(sorted(DETECTORS))}")
    return DETECTORS[name](**options)
