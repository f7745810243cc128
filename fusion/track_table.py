"""The tracker's per-track state as parallel arrays, one row per track (internal and mutable), so each
step of a tick works on every track at once instead of stacking per-track objects."""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


_COLUMNS = {"ids": ((), int), "x": ((4,), float), "P": ((4, 4), float), "yaw_rad": ((), float),
            "size_m": ((3,), float), "z_m": ((), float), "existence": ((), float), "last_hit_s": ((), float),
            "hit": ((), bool), "unconfirmed": ((), int), "confirmed": ((), bool), "detection_score": ((), float)}
"""Each column's shape per row and type."""


@dataclass
class TrackTable:
    ids: np.ndarray
    """(T,) track ids."""
    x: np.ndarray
    """(T, 4) states [x_m, y_m, vx_mps, vy_mps] in the map frame."""
    P: np.ndarray
    """(T, 4, 4) state covariances."""
    yaw_rad: np.ndarray
    size_m: np.ndarray
    """(T, 3) length, width, height [m]."""
    z_m: np.ndarray
    """(T,) box centre heights [m]."""
    existence: np.ndarray
    last_hit_s: np.ndarray
    hit: np.ndarray
    """(T,) whether a detection updated the track this tick."""
    unconfirmed: np.ndarray
    """(T,) frames of a confirming source that should have seen the track and did not, since its last hit."""
    confirmed: np.ndarray
    """(T,) whether a confirming source ever detected it confidently (then its weak detections carry it too)."""
    detection_score: np.ndarray
    """(T,) score of the best detection that updated it this tick."""

    @classmethod
    def rows(cls, rows: list[dict]) -> TrackTable:
        """A table of new tracks, one dict of field values per row (``hit`` is set: they were just detected)."""
        cols = {name: np.array([r[name] for r in rows], dtype).reshape((len(rows), *shape))
                for name, (shape, dtype) in _COLUMNS.items() if name != "hit"}
        return cls(hit=np.ones(len(rows), bool), **cols)

    def __len__(self) -> int:
        return len(self.ids)

    def select(self, keep: np.ndarray) -> TrackTable:
        """The rows picked by a boolean mask or an index array."""
        return TrackTable(**{f.name: getattr(self, f.name)[keep] for f in fields(self)})

    def extend(self, other: TrackTable) -> TrackTable:
        """This table's rows, then ``other``'s."""
        if not len(other):
            return self
        return TrackTable(**{f.name: np.concatenate([getattr(self, f.name), getattr(other, f.name)])
                             for f in fields(self)})

