"""Small geometry helpers shared by every package above perception."""
from __future__ import annotations

import numpy as np


def wrap_angle(angle_rad):
    """Angle(s) wrapped to [-pi, pi) [rad]; a float for a scalar, an array for an array."""
    wrapped = (np.asarray(angle_rad, dtype=float) + np.pi) % (2.0 * np.pi) - np.pi
    return float(wrapped) if wrapped.ndim == 0 else wrapped
