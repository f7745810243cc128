"""Runtime diagnostics: every tick each module of the stack reports OK / WARN / ERROR with a message
(sensor timeouts and blackouts, tick over budget, detector output collapse, tracker covariance
blow-up, NaN or clipped commands, no collision-free plan), in the spirit of ROS ``diagnostics``.
The statuses are recorded in logs, streamed live and summed up at the end of a run."""
from sim.diagnostics.checks import CHECKS
from sim.diagnostics.monitor import (FAIL_ON, DiagnosticsMonitor, DiagnosticsSummary, config_for, format_summary,
                                     tick_view)
from sim.diagnostics.types import DiagnosticsConfig, DiagnosticStatus, Level, TickView

__all__ = ["CHECKS", "FAIL_ON", "DiagnosticStatus", "DiagnosticsConfig", "DiagnosticsMonitor", "DiagnosticsSummary",
           "Level", "TickView", "config_for", "format_summary", "tick_view"]
