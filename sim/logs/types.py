"""What one tick of a log holds, in the project's own types (written by the recorder, read back by
the reader and replay)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from control.types import Command, Trajectory
from fusion.types import EgoState, Track
from perception.detections import Detections
from perception.frames import SensorFrame
from sim.highway.ground_truth import VehicleSnapshot


@dataclass(frozen=True)
class GroundTruthObjects:
    """The simulator's state at one tick, map frame.

    ``ids`` (N,) stable vehicle ids; ``objects`` (N, 7): x [m], y [m], vx [m/s], vy [m/s], yaw [rad],
    length [m], width [m] (the layout of ``GroundTruthFrame.others_array``).
    """

    stamp: float
    ego: VehicleSnapshot
    ids: np.ndarray
    objects: np.ndarray


@dataclass(frozen=True)
class LoggedTick:
    """Everything recorded at one closed-loop tick; a part the log lacks (never recorded, or lost
    to damage) is None.

    ``frame`` is the sensor frame the rig delivered this tick (its ``stamp`` is the capture time,
    which lags ``stamp`` under sensor latency); camera frames carry RGB only (depth and instance
    images are not recorded). ``ego`` is the ego state the world model used (odometry noise
    included) and ``ego_lane_id`` its lane. ``detections`` are every detector's raw output (before the
    score threshold); ``tracks`` the world model's tracks, produced by ``world_source``.
    ``missing`` names sensor data the frame lists but the log does not hold (e.g. a lost topic).
    """

    stamp: float
    frame: SensorFrame | None = None
    ego: EgoState | None = None
    ego_lane_id: str | None = None
    ground_truth: GroundTruthObjects | None = None
    detections: tuple[Detections, ...] | None = None
    tracks: tuple[Track, ...] | None = None
    world_source: str = ""
    trajectory: Trajectory | None = None
    planner: str = ""
    command: Command | None = None
    missing: tuple[str, ...] = field(default=())

    @property
    def stamp_ns(self) -> int:
        """The tick's MCAP log time [ns since episode start]."""
        return stamp_to_ns(self.stamp)


def stamp_to_ns(stamp_s: float) -> int:
    return int(round(stamp_s * 1e9))
