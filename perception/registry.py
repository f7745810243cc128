"""Detectors by name (``DETECTORS``), which ground truth each is scored against, and the batches
whose sensor actually delivered data."""
from __future__ import annotations

from collections.abc import Callable

from perception.detections import Detector
from perception.lookup import Registry


def _classical(**_) -> Detector:
    from perception.classical import ClassicalLidarDetector  # open3d is imported only when needed

    return ClassicalLidarDetector()


def _lidar_net(**options) -> Detector:
    from perception.lidar_detector import LidarNetDetector  # torch is imported only when needed

    return LidarNetDetector(**options)


def _camera_net(**options) -> Detector:
    from perception.camera_detector import CameraNetDetector

    return CameraNetDetector(**options)


DETECTORS: Registry[Callable[..., Detector]] = Registry("detector", {
    "classical": _classical,
    "lidar": _lidar_net,
    "camera": _camera_net,
})
VISIBILITY = {"classical": "lidar", "lidar": "lidar", "camera": "camera"}
"""Which ground truth each detector is scored against (what its sensor can see)."""


def delivered_batches(batches, frame) -> list:
    """The detection batches whose detector's sensor delivered data in ``frame``: an absent or blank
    sensor reports nothing, not an empty scene (the tracker must not count its silence as misses)."""
    return [b for b in batches if frame.delivered(VISIBILITY.get(b.source, "lidar"))]


def make_detector(name: str, **options) -> Detector:
    """``options`` go to the networks (``weights``, ``device``, ``bf16``, ``threshold``); the classical
    detector takes none."""
    return DETECTORS[name](**options)
