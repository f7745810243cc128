"""The checks: each looks at one part of the stack every tick and reports ``DiagnosticStatus``es.

Checks keep what they need of past ticks (a sensor's last frame, a detector's output history), so
one instance serves one episode or one replayed log.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from perception.frames import SensorFrame, has_signal
from perception.registry import VISIBILITY
from sim.diagnostics.types import DiagnosticsConfig, DiagnosticStatus, Level, TickView

OK, WARN, ERROR = Level.OK, Level.WARN, Level.ERROR


def _status(module: str, level: Level, message: str, **values: float) -> DiagnosticStatus:
    return DiagnosticStatus(module, level, message, tuple((k, float(v)) for k, v in values.items()))


class SensorCheck:
    """Each sensor of the rig: delivered this tick (OK), dropped for a tick (WARN), silent for longer
    than the timeout (blackout) or delivering frames older than it (ERROR). A blank camera image
    counts as no frame."""

    def __init__(self, cfg: DiagnosticsConfig) -> None:
        self.cfg = cfg
        self.sensors = [("camera", n) for n in cfg.cameras] + [("lidar", n) for n in cfg.lidars]
        self.last_frame_s: dict[str, float] = {}

    def check(self, view: TickView) -> list[DiagnosticStatus]:
        if view.frame is None:
            return []
        return [self._one(kind, name, view.stamp, view.frame) for kind, name in self.sensors]

    def _one(self, kind: str, name: str, stamp: float, frame: SensorFrame) -> DiagnosticStatus:
        module, cfg = f"{kind}/{name}", self.cfg
        present = [s for s in (frame.cameras if kind == "camera" else frame.lidars) if s.calibration.name == name]
        usable = bool(present) and (kind != "camera" or has_signal(present[0].rgb))
        if usable:
            self.last_frame_s[module] = frame.stamp
            age = stamp - frame.stamp
            if age > cfg.sensor_timeout_s:
                return _status(module, ERROR, f"timeout: newest frame is {age:.2f} s old", age_s=age)
            if age > 0.5 * cfg.dt_s:
                return _status(module, WARN, f"late frame: {age:.2f} s old", age_s=age)
            return _status(module, OK, "frame on time", age_s=age)
        silent = stamp - self.last_frame_s.get(module, -cfg.dt_s)
        what = "blank image" if present else "no frame"
        if silent > cfg.sensor_timeout_s:
            return _status(module, ERROR, f"blackout: {what}, silent for {silent:.1f} s", silent_s=silent)
        return _status(module, WARN, f"dropped: {what} this tick", silent_s=silent)


class BudgetCheck:
    """The stack's time per tick against its budget."""

    def __init__(self, cfg: DiagnosticsConfig) -> None:
        self.cfg = cfg

    def check(self, view: TickView) -> list[DiagnosticStatus]:
        if view.stack_s is None:
            return []
        ms, budget_ms = 1000.0 * view.stack_s, 1000.0 * self.cfg.tick_budget_s
        if ms > self.cfg.tick_error_factor * budget_ms:
            level = ERROR
            text = f"tick took {ms:.0f} ms, over {self.cfg.tick_error_factor:g} x its {budget_ms:.0f} ms budget"
        elif ms > budget_ms:
            level, text = WARN, f"tick took {ms:.0f} ms, over its {budget_ms:.0f} ms budget"
        else:
            level, text = OK, f"tick took {ms:.0f} ms"
        return [_status("loop", level, text, stack_ms=ms, budget_ms=budget_ms)]


class DetectorRateCheck:
    """Each detector's confident output per frame it got, against the median of its recent history:
    a sudden fall (sensor degraded, network broken) is a WARN, nothing at all an ERROR. Frames its
    sensor did not deliver are not counted (the sensor check reports them)."""

    def __init__(self, cfg: DiagnosticsConfig) -> None:
        self.cfg = cfg
        self.history: dict[str, deque] = {}

    def check(self, view: TickView) -> list[DiagnosticStatus]:
        if view.detections is None:
            return []
        return [self._one(batch, view.frame) for batch in view.detections]

    def _one(self, batch, frame: SensorFrame | None) -> DiagnosticStatus:
        cfg, module = self.cfg, f"detector/{batch.source}"
        if frame is not None and not frame.delivered(VISIBILITY.get(batch.source, "lidar")):
            return _status(module, OK, "idle: its sensor delivered nothing")
        count = int(np.sum(np.asarray(batch.score) >= cfg.detector_min_score))
        h = self.history.setdefault(module, deque(maxlen=cfg.detector_window + cfg.collapse_frames))
        h.append(count)
        if len(h) < 2 * cfg.collapse_frames:
            return _status(module, OK, f"{count} detections", count=count)
        past = list(h)[:-cfg.collapse_frames]
        baseline, recent = float(np.median(past)), float(np.mean(list(h)[-cfg.collapse_frames:]))
        values = {"count": count, "recent_mean": recent, "baseline": baseline}
        if baseline >= cfg.min_baseline and recent == 0.0:
            return _status(module, ERROR, f"output collapsed: no detections in {cfg.collapse_frames} frames "
                            f"(usually {baseline:.0f})", **values)
        if baseline >= cfg.min_baseline and recent < cfg.collapse_fraction * baseline:
            return _status(module, WARN, f"output rate fell to {recent:.1f} per frame (usually {baseline:.0f})",
                           **values)
        return _status(module, OK, f"{count} detections", **values)


class TrackerCheck:
    """Track states finite and position uncertainty bounded (a covariance blow-up means the filter
    diverged or coasts on nothing)."""

    def __init__(self, cfg: DiagnosticsConfig) -> None:
        self.cfg = cfg

    def check(self, view: TickView) -> list[DiagnosticStatus]:
        cfg, tracks = self.cfg, view.tracks
        if not tracks:
            return [_status("tracker", OK, "no tracks", tracks=0)]
        states = np.array([[t.x_m, t.y_m, t.vx_mps, t.vy_mps] for t in tracks])
        covs = np.stack([np.asarray(t.covariance, float)[:2, :2] for t in tracks])
        if not (np.isfinite(states).all() and np.isfinite(covs).all()):
            return [_status("tracker", ERROR, "non-finite track state or covariance", tracks=len(tracks))]
        std = np.sqrt(np.maximum(np.linalg.eigvalsh(covs)[:, -1], 0.0))
        worst = int(np.argmax(std))
        values = {"tracks": len(tracks), "max_pos_std_m": std[worst]}
        text = f"track #{tracks[worst].track_id} position std {std[worst]:.1f} m"
        if std[worst] > cfg.track_std_error_m:
            return [_status("tracker", ERROR, f"covariance blow-up: {text}", **values)]
        if std[worst] > cfg.track_std_warn_m:
            return [_status("tracker", WARN, f"covariance growing: {text}", **values)]
        return [_status("tracker", OK, f"{len(tracks)} tracks, largest position std {std[worst]:.1f} m", **values)]


class CommandCheck:
    """The controller's command: non-finite (the simulator boundary brakes instead) is an ERROR,
    outside the actuator limits (clipped there) a WARN."""

    def __init__(self, cfg: DiagnosticsConfig) -> None:
        self.cfg = cfg

    def check(self, view: TickView) -> list[DiagnosticStatus]:
        c = view.command
        if c is None:
            return []
        a, s = c.accel_mps2, c.steering_rad
        lo, hi = self.cfg.accel_range_mps2
        values = {"accel_mps2": a, "steering_rad": s}
        if not (np.isfinite(a) and np.isfinite(s)):
            return [_status("controller", ERROR, f"non-finite command (accel {a}, steering {s}): braking instead",
                            **values)]
        if not lo <= a <= hi or abs(s) > self.cfg.max_steering_rad:
            return [_status("controller", WARN, f"command clipped: accel {a:.2f} m/s^2 (limits {lo:g}..{hi:g}), "
                            f"steering {s:.3f} rad (limit {self.cfg.max_steering_rad:g})", **values)]
        return [_status("controller", OK, f"accel {a:.2f} m/s^2, steering {s:.3f} rad", **values)]


class PlannerCheck:
    """The planner found at least one proposal that passes its collision gate. A tick without one is
    a WARN (the least bad is taken, emergency profiles included); ``planner_error_ticks`` in a row
    an ERROR."""

    def __init__(self, cfg: DiagnosticsConfig) -> None:
        self.cfg = cfg
        self.blocked_ticks = 0

    def check(self, view: TickView) -> list[DiagnosticStatus]:
        p = view.plan_status
        if p is None:
            return []
        values = {"proposals": p.proposals, "collision_free": p.collision_free}
        self.blocked_ticks = self.blocked_ticks + 1 if p.collision_free == 0 else 0
        if self.blocked_ticks:
            level = ERROR if self.blocked_ticks >= self.cfg.planner_error_ticks else WARN
            return [_status("planner", level, f"no collision-free proposal of {p.proposals} for "
                            f"{self.blocked_ticks} tick(s): least bad taken (collision predicted in "
                            f"{p.chosen_collision_s:.1f} s)", blocked_ticks=self.blocked_ticks, **values)]
        return [_status("planner", OK, f"{p.collision_free} of {p.proposals} proposals collision-free", **values)]


CHECKS = (SensorCheck, BudgetCheck, DetectorRateCheck, TrackerCheck, CommandCheck, PlannerCheck)
"""Every check, in the order their statuses are reported."""
