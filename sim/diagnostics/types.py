"""Runtime diagnostics types: a status per module per tick (ROS ``diagnostic_msgs`` style), what the
checks look at, and their thresholds."""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from control.types import Command
from fusion.types import Track
from perception.detections import Detections
from perception.frames import SensorFrame
from sim.loop.drivers import PlanStatus


class Level(IntEnum):
    """Severity, with the values of ``diagnostic_msgs/DiagnosticStatus`` (OK 0, WARN 1, ERROR 2)."""

    OK = 0
    WARN = 1
    ERROR = 2


@dataclass(frozen=True)
class DiagnosticStatus:
    """One module's health at one tick: ``module`` (e.g. ``lidar/roof``, ``tracker``), ``level``, a
    one-line ``message`` and the key figures behind it (``values``: name -> number, SI units in the
    name)."""

    module: str
    level: Level
    message: str
    values: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class TickView:
    """What the checks read of one tick, from the closed loop or from replay.

    ``frame`` is None when no sensors were rendered (nothing to check for them); ``detections`` None
    when no detector ran; ``command`` None when highway-env drives the ego; ``stack_s`` the wall
    time perception, fusion, planning and control took [s] (None: not measured per tick).
    """

    stamp: float
    frame: SensorFrame | None
    detections: tuple[Detections, ...] | None
    tracks: tuple[Track, ...]
    command: Command | None
    plan_status: PlanStatus | None
    stack_s: float | None


@dataclass(frozen=True)
class DiagnosticsConfig:
    """Thresholds of the checks. ``cameras`` / ``lidars`` name the sensors the rig should deliver."""

    cameras: tuple[str, ...] = ()
    lidars: tuple[str, ...] = ()
    dt_s: float = 0.1
    """Nominal tick period [s]."""
    tick_budget_s: float = 0.1
    """Stack time allowed per tick [s]: WARN above it, ERROR above ``tick_error_factor`` times it."""
    tick_error_factor: float = 3.0
    sensor_timeout_s: float = 0.25
    """A sensor silent (or its newest frame older) for longer than this is an ERROR [s]; less is a WARN."""
    detector_min_score: float = 0.3
    """Detections counted for a detector's output rate have at least this score."""
    detector_window: int = 30
    """Frames of output history the rate baseline is the median of."""
    collapse_frames: int = 5
    """Recent frames whose mean output is compared with the baseline."""
    collapse_fraction: float = 0.25
    """WARN when the recent mean falls below this share of the baseline; ERROR when it is zero."""
    min_baseline: float = 2.0
    """Baselines below this many detections per frame (empty roads) never count as a collapse."""
    track_std_warn_m: float = 5.0
    """Largest track position standard deviation [m] before a WARN; ``track_std_error_m`` an ERROR."""
    track_std_error_m: float = 20.0
    accel_range_mps2: tuple[float, float] = (-6.0, 3.0)
    """Commands outside these limits are clipped at the simulator boundary (WARN)."""
    max_steering_rad: float = 0.5
    planner_error_ticks: int = 3
    """Ticks in a row without a collision-free proposal before the planner reports an ERROR."""
