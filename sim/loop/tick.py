"""One tick of the closed loop, written once.

``Episode`` resets a highway-env environment for one seed and advances it one tick at a time:
ground truth -> (sensor frame) -> world source -> driver -> command -> action -> env step. Each
``tick()`` returns a frozen ``TickRecord`` of everything the tick produced; the runner, the video,
the log recorder, data generation, the benches and the RL environment all consume that record.
The episode owns the only sensor simulator: it renders when the world source needs the frame or a
consumer asks for it (``sensors=True``, or ``tick(sense=True)`` for one tick).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from control.types import Command, Trajectory
from fusion.types import LaneMap, WorldModel
from perception.detections import Detections
from perception.frames import SensorFrame
from sim.highway.actions import command_to_action
from sim.highway.env import (TopDownView, ego_crashed, ego_speed_limit_mps, replace_ego_with_idm, route_nodes,
                             top_down_view)
from sim.highway.ground_truth import GroundTruthFrame, VehicleIds, capture
from sim.highway.roadmap import build_lane_map
from sim.loop.drivers import EgoDriver, PlanStatus, make_driver
from sim.loop.faults import with_faults
from sim.loop.setup import RunSetup
from sim.loop.world_sources import WorldEstimate, WorldSource, make_world_source
from sim.sensors.rig import load_rig
from sim.sensors.simulator import SensorSimulator


@dataclass(frozen=True)
class TickRecord:
    """Everything one tick produced. ``ground_truth`` is the state read before acting; ``frame`` the
    rendered sensors (None when none were rendered); ``detections`` the detector outputs that fed
    the world model (None when no detector ran); ``trajectory`` / ``command`` are None for the idm
    driver; ``timings_s`` the wall time per stage [s] ("a.b" entries are parts of "a");
    ``top_down`` the env's picture before the step (when rendering). ``terminated``, ``truncated``
    and ``crashed`` describe the env after the step."""

    index: int
    ground_truth: GroundTruthFrame
    frame: SensorFrame | None
    detections: tuple[Detections, ...] | None
    world: WorldModel
    trajectory: Trajectory | None
    command: Command | None
    timings_s: dict[str, float]
    top_down: TopDownView | None
    terminated: bool
    truncated: bool
    crashed: bool
    plan_status: PlanStatus | None = None

    @property
    def stamp(self) -> float:
        return self.ground_truth.stamp


@dataclass(frozen=True)
class _Perceived:
    gt: GroundTruthFrame
    frame: SensorFrame | None
    estimate: WorldEstimate
    timings_s: dict[str, float] = field(default_factory=dict)


class Episode:
    """One closed-loop episode on ``env`` (reset here with ``seed``).

    ``driver`` / ``source`` default to the setup's planner and world model; ``sensors`` renders the
    rig every tick (video camera view, log recording); ``render`` keeps the top-down picture.
    """

    def __init__(self, env, setup: RunSetup, seed: int, driver: EgoDriver | None = None,
                 source: WorldSource | None = None, sensors: bool = False, render: bool = False) -> None:
        self.env, self.setup, self.seed, self.render = env, setup, seed, render
        env.reset(seed=seed)
        self.lane_map: LaneMap = build_lane_map(env.unwrapped.road.network)
        self.route_nodes = route_nodes(env, setup.scenario.destination)
        self.driver = with_faults(driver or make_driver(setup.planner, setup.planner_config, setup.controller_config,
                                                        setup.policy_file), setup.faults)
        self.source = source or make_world_source(setup.world_model, setup.perception, setup.rig)
        self.source.reset(self.lane_map, seed)
        self.driver.reset()
        if self.driver.highway_ego:
            limit = ego_speed_limit_mps(env)
            replace_ego_with_idm(env, self.route_nodes, min(limit, setup.planner_config.max_speed_mps))
        self.sense_every_tick = sensors or self.source.needs_sensors
        self._sensors: SensorSimulator | None = None
        if self.sense_every_tick:  # built now, not in the first tick: its set-up would count as that tick's time
            self._sensor_sim()
        self._ids = VehicleIds()
        self.index = 0
        self._gt: GroundTruthFrame | None = None
        self._perceived: _Perceived | None = None

    def capture(self) -> GroundTruthFrame:
        """The ground truth of the current tick (read once)."""
        if self._gt is None:
            self._gt = capture(self.env, self.index * self.setup.scenario.dt_s, self._ids)
        return self._gt

    def perceive(self, sense: bool | None = None) -> WorldModel:
        """The current tick's world model (built once; ``tick`` then acts on it)."""
        if self._perceived is None:
            self._perceived = self._perceive(self.sense_every_tick or bool(sense))
        return self._perceived.estimate.world

    def sensor_frame(self) -> SensorFrame | None:
        """The current tick's sensor frame (rendered now unless this tick was perceived without it)."""
        self.perceive(sense=True)
        return self._perceived.frame

    def tick(self, sense: bool | None = None) -> TickRecord:
        """Perceive (unless done already), act, step the env; the record of the tick."""
        t = time.perf_counter
        self.perceive(sense)
        p = self._perceived
        t1 = t()
        command, trajectory = self.driver.act(p.estimate.world)
        t2 = t()
        view = top_down_view(self.env) if self.render else None
        # A list, not an array: some highway-env rewards test `action in [0, 2]` (discrete-action era).
        action = command_to_action(command, self.setup.controller_config.vehicle).tolist()
        t3 = t()
        _, _, terminated, truncated, _ = self.env.step(action)
        timings = {**p.timings_s, "plan_and_control": t2 - t1, "env_step": t() - t3}
        record = TickRecord(self.index, p.gt, p.frame, p.estimate.detections, p.estimate.world, trajectory, command,
                            timings, view, bool(terminated), bool(truncated), ego_crashed(self.env),
                            self.driver.plan_status())
        self.index += 1
        self._gt, self._perceived = None, None
        return record

    def _perceive(self, sense: bool) -> _Perceived:
        t0 = time.perf_counter()
        gt = self.capture()
        t1 = time.perf_counter()
        frame = self._sensor_sim().step(gt) if sense else None
        t2 = time.perf_counter()
        estimate = self.source.build(gt, frame, self.route_nodes)
        t3 = time.perf_counter()
        timings = {"ground_truth": t1 - t0, "world_model": t3 - t2,
                   **{f"world_model.{k}": v for k, v in estimate.timings_s.items()}}
        if sense:
            timings["sensors"] = t2 - t1
        return _Perceived(gt, frame, estimate, timings)

    def _sensor_sim(self) -> SensorSimulator:
        if self._sensors is None:
            self._sensors = SensorSimulator(self.setup.rig or load_rig(), self.lane_map, self.seed)
        return self._sensors
