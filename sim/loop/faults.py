"""Faults injected into the closed loop on purpose, to test that runtime diagnostics see them.

Sensor faults (blackouts, dropped frames, latency) belong to the sensor rig (``sensors.faults``);
the ones here hit the stack itself: a ``slow_tick`` makes the planning call sleep, a
``nan_command`` replaces the controller's command with NaN (the env boundary then brakes). Both act
during a window of episode time [start_s, end_s].
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from control.types import Command, Trajectory
from fusion.types import WorldModel
from perception.lookup import Registry

FAULT_KINDS = Registry("injected fault", {"slow_tick": "slow_tick", "nan_command": "nan_command"})


@dataclass(frozen=True)
class InjectedFault:
    """One fault: ``kind`` (``FAULT_KINDS``) active for ticks stamped in [start_s, end_s] [s];
    ``delay_s`` is a slow tick's extra time [s]."""

    kind: str
    start_s: float
    end_s: float
    delay_s: float = 0.3

    def __post_init__(self) -> None:
        FAULT_KINDS.check(self.kind)
        if not 0.0 <= self.start_s <= self.end_s:
            raise ValueError(f"injected fault '{self.kind}' window [{self.start_s}, {self.end_s}] must have "
                             "0 <= start <= end")

    def active(self, stamp: float) -> bool:
        return self.start_s <= stamp <= self.end_s


def parse_fault(text: str) -> InjectedFault:
    """``KIND:START:END`` (seconds of episode time), e.g. ``slow_tick:2:3``; a ValueError says the form."""
    parts = text.split(":")
    try:
        kind, start, end = parts[0], float(parts[1]), float(parts[2])
        if len(parts) != 3:
            raise IndexError
    except (IndexError, ValueError):
        raise ValueError(f"injected fault '{text}' must look like KIND:START_S:END_S, KIND one of "
                         f"{', '.join(FAULT_KINDS.names())} (e.g. slow_tick:2:3)") from None
    return InjectedFault(kind, start, end)


class FaultyDriver:
    """Wraps an ego driver and applies the faults active at the world model's stamp."""

    def __init__(self, driver, faults: tuple[InjectedFault, ...]) -> None:
        self.driver, self.faults = driver, faults
        self.name, self.highway_ego = driver.name, driver.highway_ego

    def reset(self) -> None:
        self.driver.reset()

    def act(self, world: WorldModel) -> tuple[Command | None, Trajectory | None]:
        command, trajectory = self.driver.act(world)
        for fault in self.faults:
            if not fault.active(world.stamp):
                continue
            if fault.kind == "slow_tick":
                time.sleep(fault.delay_s)
            elif fault.kind == "nan_command" and command is not None:
                command = Command(command.stamp, float("nan"), float("nan"))
        return command, trajectory

    def plan_status(self):
        return self.driver.plan_status()


def with_faults(driver, faults: tuple[InjectedFault, ...]):
    """``driver`` itself when there are no faults, else wrapped in a ``FaultyDriver``."""
    return FaultyDriver(driver, faults) if faults else driver
