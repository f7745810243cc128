"""Names -> implementations: the one typed registry class behind every lookup by name (scenarios,
planners, world models, detectors, algorithms, suites...), and the detector registry.

``Registry`` lives here because perception is the lowest floor that every package with a registry
may import; the one-line "unknown X 'y'; valid: a, b" error is written only here.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

from perception.detections import Detector

T = TypeVar("T")


class Registry(Generic[T]):
    """A read-only name -> value table (usually a factory) for one ``kind`` of thing."""

    def __init__(self, kind: str, entries: Mapping[str, T] | Callable[[], Mapping[str, T]]) -> None:
        self.kind = kind
        self._entries = entries
        """A mapping, or a function returning one (for tables read from disk when first needed)."""

    def _table(self) -> Mapping[str, T]:
        return self._entries() if callable(self._entries) else self._entries

    def names(self) -> list[str]:
        return sorted(self._table())

    def check(self, name: str) -> str:
        """``name`` if registered, else a ValueError naming the valid ones."""
        if name not in self._table():
            raise ValueError(f"unknown {self.kind} '{name}'; valid: {', '.join(self.names())}")
        return name

    def check_all(self, names) -> tuple[str, ...]:
        """Every name registered (and at least one)."""
        names = tuple(names)
        if not names:
            raise ValueError(f"no {self.kind} given; valid: {', '.join(self.names())}")
        return tuple(self.check(n) for n in names)

    def __getitem__(self, name: str) -> T:
        return self._table()[self.check(name)]

    def __contains__(self, name: object) -> bool:
        return name in self._table()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._table())


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
