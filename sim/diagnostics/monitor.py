"""Running the checks every tick and summing them up: ``DiagnosticsMonitor`` (a tick sink), the
per-module counts of a run (``DiagnosticsSummary``), its table and the ``--fail-on`` verdict."""
from __future__ import annotations

from dataclasses import dataclass, field

from sim.diagnostics.checks import CHECKS
from sim.diagnostics.types import DiagnosticsConfig, DiagnosticStatus, Level, TickView
from sim.loop.setup import RunSetup
from sim.loop.tick import TickRecord

FAIL_ON = ("never", "warn", "error")
"""``--fail-on`` choices: the level from which a run exits 1."""


def config_for(setup: RunSetup, tick_budget_s: float | None = None) -> DiagnosticsConfig:
    """Thresholds for a closed-loop set-up: its rig's sensors, tick period and actuator limits."""
    rig, vehicle = setup.rig, setup.controller_config.vehicle
    dt = setup.scenario.dt_s
    return DiagnosticsConfig(tuple(c.name for c in rig.cameras) if rig else (),
                             tuple(l.name for l in rig.lidars) if rig else (), dt_s=dt,
                             tick_budget_s=dt if tick_budget_s is None else tick_budget_s,
                             accel_range_mps2=(vehicle.min_accel_mps2, vehicle.max_accel_mps2),
                             max_steering_rad=vehicle.max_steering_rad)


def tick_view(record: TickRecord) -> TickView:
    """The checks' view of a closed-loop tick; the stack's time is perception + fusion (world model)
    and planning + control, not the simulator's (ground truth, sensor rendering, env step)."""
    t = record.timings_s
    stack_s = t.get("world_model", 0.0) + t.get("plan_and_control", 0.0)
    return TickView(record.stamp, record.frame, record.detections, record.world.tracks, record.command,
                    record.plan_status, stack_s)


@dataclass
class DiagnosticsSummary:
    """Counts per module and level over a run, and each module's first WARN and ERROR (stamp, message).
    Plain data, so worker processes can send it back and summaries add up."""

    ticks: int = 0
    counts: dict[str, list[int]] = field(default_factory=dict)
    first: dict[str, dict[int, tuple[float, str]]] = field(default_factory=dict)

    def add(self, stamp: float, statuses: tuple[DiagnosticStatus, ...]) -> None:
        self.ticks += 1
        for s in statuses:
            self.counts.setdefault(s.module, [0, 0, 0])[int(s.level)] += 1
            if s.level > Level.OK:
                self.first.setdefault(s.module, {}).setdefault(int(s.level), (stamp, s.message))

    def merge(self, other: "DiagnosticsSummary") -> "DiagnosticsSummary":
        """Both runs' counts (the earlier run's first messages win)."""
        out = DiagnosticsSummary(self.ticks + other.ticks, {m: list(c) for m, c in self.counts.items()},
                                 {m: dict(f) for m, f in self.first.items()})
        for module, counts in other.counts.items():
            mine = out.counts.setdefault(module, [0, 0, 0])
            out.counts[module] = [a + b for a, b in zip(mine, counts)]
        for module, firsts in other.first.items():
            for level, item in firsts.items():
                out.first.setdefault(module, {}).setdefault(level, item)
        return out

    @property
    def worst(self) -> Level:
        levels = [lvl for c in self.counts.values() for lvl in (Level.ERROR, Level.WARN) if c[lvl]]
        return max(levels, default=Level.OK)

    def fails(self, fail_on: str) -> bool:
        """Whether the run reached the ``--fail-on`` level (``never`` never fails)."""
        if fail_on not in FAIL_ON:
            raise ValueError(f"unknown --fail-on '{fail_on}'; valid: {', '.join(FAIL_ON)}")
        return fail_on != "never" and self.worst >= Level[fail_on.upper()]

    def to_json(self) -> dict:
        return {"ticks": self.ticks, "worst": self.worst.name,
                "modules": {m: {"OK": c[0], "WARN": c[1], "ERROR": c[2],
                                **{f"first_{Level(lvl).name}": {"stamp_s": t, "message": msg}
                                   for lvl, (t, msg) in sorted(self.first.get(m, {}).items())}}
                            for m, c in sorted(self.counts.items())}}


def format_summary(summary: DiagnosticsSummary) -> str:
    """One row per module: counts per level and its first (worst-level) problem."""
    header = ("module", "OK", "WARN", "ERROR", "first problem")
    rows = []
    for module, c in sorted(summary.counts.items()):
        firsts = summary.first.get(module, {})
        problem = ""
        if firsts:
            level = max(firsts)
            stamp, message = firsts[level]
            problem = f"{Level(level).name} at {stamp:.1f} s: {message}"
        rows.append((module, str(c[0]), str(c[1]), str(c[2]), problem))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = [f"diagnostics: {summary.ticks} ticks, worst {summary.worst.name}"]
    for r in [header, tuple("-" * len(h) for h in header), *rows]:
        lines.append("  ".join([r[0].ljust(widths[0]), *(r[i].rjust(widths[i]) for i in (1, 2, 3)), r[4]]).rstrip())
    return "\n".join(lines)


class DiagnosticsMonitor:
    """Runs every check on each tick. As a tick sink it sums up the run in ``summary``; ``statuses``
    gives a tick's statuses to other sinks (the log recorder, the live view), computed once per tick
    whichever sink asks first."""

    def __init__(self, config: DiagnosticsConfig) -> None:
        self.config = config
        self.checks = [cls(config) for cls in CHECKS]
        self.summary = DiagnosticsSummary()
        self._last: tuple[float, tuple[DiagnosticStatus, ...]] | None = None

    def update(self, view: TickView) -> tuple[DiagnosticStatus, ...]:
        """The statuses of one tick (each tick once: a second call for the same stamp returns them)."""
        if self._last is not None and self._last[0] == view.stamp:
            return self._last[1]
        statuses = tuple(s for check in self.checks for s in check.check(view))
        self.summary.add(view.stamp, statuses)
        self._last = (view.stamp, statuses)
        return statuses

    def statuses(self, record: TickRecord) -> tuple[DiagnosticStatus, ...]:
        return self.update(tick_view(record))

    def __call__(self, record: TickRecord) -> None:
        self.statuses(record)
