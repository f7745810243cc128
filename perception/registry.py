"""Detectors by name."""
from __future__ import annotations

from typing import Callable

from perception.classical import ClassicalLidarDetector
from perception.detections import Detector

DETECTORS: dict[str, Callable[[], Detector]] = {
    "classical": ClassicalLidarDetector,
}
VISIBILITY = {"classical": "lidar"}
"""Which ground truth each detector is scored against (what its sensor can see)."""


def make_detector(name: str) -> Detector:
    if name not in DETECTORS:
        raise ValueError(f"unknown model '{name}'; valid: {', '.join(sorted(DETECTORS))}")
    return DETECTORS[name]()
