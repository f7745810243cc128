"""Closed-loop episodes: ``Episode.tick`` until the scenario's duration, a collision or arrival,
with the per-tick ego record that metrics are computed from."""
from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np

from planning.ttc import min_time_to_collision
from sim.backends.interrupt import raise_if_interrupted
from sim.highway.env import collision_fault
from sim.highway.ground_truth import GroundTruthFrame
from sim.loop.drivers import EgoDriver
from sim.loop.episode import EpisodeLog
from sim.loop.setup import RunSetup, open_env
from sim.loop.tick import Episode, TickRecord

TickSink = Callable[[TickRecord], None]
"""A consumer of every tick's record (video, log recorder, live view)."""


class Timings:
    """Accumulated wall time per stage of the loop [s] and the number of ticks."""

    SAMPLED = ("plan_and_control",)
    """Stages whose every tick is kept, for percentiles (the planning call's median and p99)."""

    def __init__(self) -> None:
        self.total_s: dict[str, float] = defaultdict(float)
        self.samples_s: dict[str, list[float]] = defaultdict(list)
        self.ticks = 0

    def add(self, timings_s: dict[str, float]) -> None:
        for key, seconds in timings_s.items():
            self.total_s[key] += seconds
            if key in self.SAMPLED:
                self.samples_s[key].append(seconds)
        self.ticks += 1

    def percentile_ms(self, key: str, q: float) -> float:
        """The q-th percentile [ms] of one sampled stage's per-tick times (nan when never timed)."""
        values = self.samples_s.get(key)
        return 1000.0 * float(np.percentile(values, q)) if values else float("nan")

    def per_tick_ms(self) -> dict[str, float]:
        return {k: 1000.0 * v / max(self.ticks, 1) for k, v in self.total_s.items()}


class _EgoRecord:
    """Collects the per-tick ground-truth record that metrics are computed from."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def record(self, gt: GroundTruthFrame) -> None:
        s, lane = gt.ego, gt.ego_lane
        ttc = min_time_to_collision(np.array([s.x_m, s.y_m, s.yaw_rad, s.speed_mps, s.length_m, s.width_m]),
                                    gt.others_array)
        self.rows.append((gt.stamp, s.x_m, s.y_m, s.yaw_rad, s.speed_mps, ttc, abs(s.lane_offset_m), lane.width_m,
                          lane.heading_rad, lane.on_road, lane.speed_limit_mps))

    def columns(self) -> list[np.ndarray]:
        return [np.array(c) for c in zip(*self.rows)]


def run_episode(setup: RunSetup, seed: int, sinks: Sequence[TickSink] = (), timings: Timings | None = None,
                sensors: bool = False, render: bool = False, driver: EgoDriver | None = None) -> EpisodeLog:
    """Run one closed-loop episode; every ``sinks`` callable gets each tick's record. ``sensors``
    renders the rig every tick (for a camera view or a log), ``render`` the top-down picture;
    ``driver`` replaces the setup's (to read its state afterwards)."""
    env = open_env(setup, render=render)
    try:
        return _loop(Episode(env, setup, seed, driver=driver, sensors=sensors, render=render), sinks,
                     timings or Timings())
    finally:
        env.close()


def _loop(episode: Episode, sinks: Sequence[TickSink], timings: Timings) -> EpisodeLog:
    setup, sc = episode.setup, episode.setup.scenario
    rec, end_reason, collided, fault, crash_tick = _EgoRecord(), "duration", False, False, None
    for _ in range(int(round(sc.duration_s * sc.policy_frequency_hz))):
        raise_if_interrupted()  # a Ctrl-C that a finaliser swallowed still stops the episode here
        record = episode.tick()
        t0 = time.perf_counter()
        rec.record(record.ground_truth)
        timings.add({**record.timings_s, "metrics_record": time.perf_counter() - t0})
        for sink in sinks:
            sink(record)
        if record.crashed:
            collided, fault, crash_tick, end_reason = True, collision_fault(episode.env), record.index + 1, "collision"
        elif record.terminated:
            end_reason = "arrived"
        if record.terminated or record.truncated or collided:
            break
    rec.record(episode.capture())
    c = rec.columns()
    return EpisodeLog(sc.name, setup.planner, setup.world_model, seed=episode.seed, dt_s=sc.dt_s, t_s=c[0], x_m=c[1],
                      y_m=c[2], yaw_rad=c[3], speed_mps=c[4], min_ttc_s=c[5], lane_offset_m=c[6], lane_width_m=c[7],
                      lane_heading_rad=c[8], on_road=c[9].astype(bool), speed_limit_mps=c[10], collided=collided,
                      at_fault_collision=fault, collision_tick=crash_tick, end_reason=end_reason,
                      duration_s=sc.duration_s)
