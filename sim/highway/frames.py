"""The one place where highway-env's frame meets the project's.

highway-env: x along the road, y to the right (z down), heading clockwise-positive on screen.
Project (ISO 8855 / REP-103): x forward, y left, z up. The map is mirrored in y, so
y -> -y, heading -> -heading, steering -> -steering; x and speeds along x are unchanged.
"""
from __future__ import annotations

import numpy as np


def he_to_map_xy(xy: np.ndarray) -> np.ndarray:
    """highway-env positions (..., 2) -> map-frame positions (..., 2) [m]."""
    out = np.array(xy, dtype=float, copy=True)
    out[..., 1] *= -1.0
    return out


map_to_he_xy = he_to_map_xy
"""The mirror is its own inverse."""


def he_to_map_heading(heading_rad: float | np.ndarray) -> float | np.ndarray:
    return -np.asarray(heading_rad, dtype=float) if isinstance(heading_rad, np.ndarray) else -float(heading_rad)


map_to_he_heading = he_to_map_heading
he_to_map_steering = he_to_map_heading
map_to_he_steering = he_to_map_heading


def lane_id(index: tuple[str, str, int]) -> str:
    """Project lane id for a highway-env lane index (from_node, to_node, id)."""
    return f"{index[0]}>{index[1]}>{index[2]}"
