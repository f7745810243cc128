"""Closed-loop runner: each tick builds the world model, plans, controls and steps highway-env."""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from control.controller import ControllerConfig
from control.types import Command, Trajectory
from fusion.types import LaneMap, WorldModel
from planning.rule_planner import RulePlannerConfig
from planning.ttc import min_time_to_collision
from sim.highway.actions import action_ranges, command_to_action
from sim.loop.drivers import make_driver
from sim.loop.episode import EpisodeLog
from sim.highway.ground_truth import GroundTruthFrame, VehicleIds, capture
from sim.highway.roadmap import build_lane_map
from sim.highway.scenarios import ScenarioConfig, make_env
from sim.loop.perception_world import PerceptionConfig
from sim.sensors.rig import RigConfig
from sim.loop.world_sources import make_world_source


@dataclass(frozen=True)
class RunSetup:
    """Everything one closed-loop episode needs besides its seed."""

    scenario: ScenarioConfig
    planner: str = "rule"
    world_model: str = "ground_truth"
    planner_config: RulePlannerConfig = field(default_factory=RulePlannerConfig)
    controller_config: ControllerConfig = field(default_factory=ControllerConfig)
    perception: PerceptionConfig = field(default_factory=PerceptionConfig)
    rig: RigConfig | None = None
    """Sensor rig of the ``perception`` world model (None: configs/sensors/default.yaml)."""
    policy_file: str | None = None
    """Trained policy of the ``rl`` planner."""


class Timings:
    """Accumulated wall time per phase of the loop [s] and the number of ticks."""

    def __init__(self) -> None:
        self.total_s: dict[str, float] = defaultdict(float)
        self.ticks = 0

    def per_tick_ms(self) -> dict[str, float]:
        return {k: 1000.0 * v / max(self.ticks, 1) for k, v in self.total_s.items()}


class _Recorder:
    """Collects the per-tick ground-truth record that metrics are computed from."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def record(self, gt: GroundTruthFrame) -> None:
        s, ego = gt.ego, gt.ego_vehicle
        ttc = min_time_to_collision(np.array([s.x_m, s.y_m, s.yaw_rad, s.speed_mps, s.length_m, s.width_m]),
                                    gt.others_array)
        lane = ego.lane
        width = float(lane.width_at(0.0)) if lane is not None else 4.0
        heading = -float(lane.heading_at(lane.local_coordinates(ego.position)[0])) if lane is not None else s.yaw_rad
        limit = float(lane.speed_limit) if lane is not None and lane.speed_limit is not None else 20.0
        self.rows.append((gt.stamp, s.x_m, s.y_m, s.yaw_rad, s.speed_mps, ttc, abs(s.lane_offset_m), width, heading,
                          bool(ego.on_road), limit))

    def columns(self) -> list[np.ndarray]:
        return [np.array(c) for c in zip(*self.rows)]


def route_nodes(env, destination: str | None) -> tuple[str, ...]:
    base = env.unwrapped
    if destination is None:
        return ()
    start = base.vehicle.lane_index[0]
    path = base.road.network.shortest_path(start, destination)
    if not path:
        raise ValueError(f"scenario destination '{destination}' is unreachable from '{start}'")
    return tuple(path)


def _collision_fault(env) -> bool:
    """At fault unless the ego was (nearly) stopped or was hit from behind."""
    base = env.unwrapped
    ego = base.vehicle
    if ego.speed < 0.5:
        return False
    crashed = [v for v in base.road.vehicles if v is not ego and v.crashed]
    if not crashed:
        return True
    other = min(crashed, key=lambda v: np.linalg.norm(v.position - ego.position))
    rel = other.position - ego.position
    return bool(rel[0] * np.cos(ego.heading) + rel[1] * np.sin(ego.heading) > 0.0)


def open_env(setup: RunSetup, render: bool = False):
    """The scenario's highway-env environment with the action ranges of the ego's vehicle."""
    accel_range, steer_max = action_ranges(setup.controller_config.vehicle)
    return make_env(setup.scenario, accel_range, steer_max, render=render)


@dataclass(frozen=True)
class Tick:
    """One tick of ``drive``: its index, the ground truth read before acting, the episode's lane map."""

    index: int
    gt: GroundTruthFrame
    lane_map: LaneMap


@dataclass(frozen=True)
class LoopStep:
    """One tick of ``run_episode`` as the stack saw it, for a ``tick_sink`` (the log recorder): the
    ground truth read before acting, the world model, the plan and command (None for the idm
    driver), the world source that built the world model, the lane map and the route."""

    index: int
    gt: GroundTruthFrame
    world: WorldModel
    trajectory: Trajectory | None
    command: Command | None
    source: object
    lane_map: LaneMap
    route_nodes: tuple[str, ...]


def _start(env, setup: RunSetup, seed: int):
    """Reset the episode; return its lane map, route, driver, world source and vehicle ids."""
    env.reset(seed=seed)
    lane_map = build_lane_map(env.unwrapped.road.network)
    route = route_nodes(env, setup.scenario.destination)
    driver = make_driver(setup.planner, setup.planner_config, setup.controller_config, setup.policy_file)
    source = make_world_source(setup.world_model, setup.perception, setup.rig)
    source.reset(lane_map, seed)
    lane = env.unwrapped.vehicle.lane
    limit = float(lane.speed_limit) if lane is not None and lane.speed_limit else 20.0
    driver.reset(env, route, min(limit, setup.planner_config.max_speed_mps))
    return lane_map, route, driver, source, VehicleIds()


def drive(env, setup: RunSetup, seed: int) -> Iterator[Tick]:
    """Drive an episode closed loop, yielding each tick's ground truth before the stack acts on it.

    For tools that sample the loop (datagen, render-sensors); it ends when the episode does.
    """
    lane_map, route, driver, source, ids = _start(env, setup, seed)
    tick = 0
    while True:
        gt = capture(env, tick * setup.scenario.dt_s, ids)
        yield Tick(tick, gt, lane_map)
        command, _ = driver.act(source.build(env, gt, lane_map, route))
        _, _, terminated, truncated, _ = env.step(command_to_action(command, setup.controller_config.vehicle).tolist())
        tick += 1
        if terminated or truncated:
            return


def run_episode(setup: RunSetup, seed: int, frame_sink=None, timings: Timings | None = None,
                tick_sink=None) -> EpisodeLog:
    """Run one closed-loop episode; ``frame_sink(env, trajectory, world, source)`` is called per tick (video),
    ``tick_sink(LoopStep)`` too (log recording)."""
    env = open_env(setup, render=frame_sink is not None)
    try:
        return _loop(env, setup, seed, frame_sink, timings or Timings(), tick_sink)
    finally:
        env.close()


def _loop(env, setup: RunSetup, seed: int, frame_sink, timings: Timings, tick_sink=None) -> EpisodeLog:
    sc = setup.scenario
    lane_map, route, driver, source, ids = _start(env, setup, seed)
    rec, end_reason, collided, fault, crash_tick = _Recorder(), "duration", False, False, None
    clock, t = timings.total_s, time.perf_counter
    for tick in range(int(round(sc.duration_s * sc.policy_frequency_hz))):
        t0 = t()
        gt = capture(env, tick * sc.dt_s, ids)
        rec.record(gt)
        t1 = t()
        world = source.build(env, gt, lane_map, route)
        t2 = t()
        command, trajectory = driver.act(world)
        t3 = t()
        if frame_sink is not None:
            frame_sink(env, trajectory, world, source)
        if tick_sink is not None:
            tick_sink(LoopStep(tick, gt, world, trajectory, command, source, lane_map, route))
        # A list, not an array: some highway-env rewards test `action in [0, 2]` (discrete-action era).
        action = command_to_action(command, setup.controller_config.vehicle).tolist()
        _, _, terminated, truncated, _ = env.step(action)
        t4 = t()
        clock["metrics_record"] += t1 - t0
        clock["world_model"] += t2 - t1
        clock["plan_and_control"] += t3 - t2
        clock["env_step"] += t4 - t3
        timings.ticks += 1
        if env.unwrapped.vehicle.crashed:
            collided, fault, crash_tick, end_reason = True, _collision_fault(env), tick + 1, "collision"
        elif terminated:
            end_reason = "arrived"
        if terminated or truncated or collided:
            break
    for name, seconds in getattr(source, "timings", {}).items():
        clock[f"world_model.{name}"] += seconds
    rec.record(capture(env, len(rec.rows) * sc.dt_s, ids))
    c = rec.columns()
    return EpisodeLog(sc.name, setup.planner, setup.world_model, seed, sc.dt_s, *c[:9], c[9].astype(bool), c[10],
                      collided, fault, crash_tick, end_reason, sc.duration_s)
