"""Gymnasium environment: an RL policy picks behaviours on the world model; the stack drives them.

One ``step`` is one decision (``behaviour.decision_period_s``, 5 ticks at 10 Hz): the behaviour is
executed by ``planning.BehaviourPlanner`` (paths + IDM) and the project's controller on the
scenario's highway-env, and every tick the world model is rebuilt by the configured source
(``ground_truth``, ``surrogate`` or ``perception``), so the policy sees what the car perceives. The
observation is ``planning.observation.observe`` of the world model at the decision tick; the
reward comes from ground truth (``sim.rl.reward``). A behaviour the safety mask forbids
(``planning.action_mask``) is replaced by ``safe_substitute`` before it is executed, whatever the
algorithm (counted in ``info["interventions"]``); ``action_masks()`` lets a mask-aware one
(sb3-contrib's ``MaskablePPO``) never pick it.

Registered ids (``gym.make("drivestack/Highway-v0")``; in subprocesses use
``"sim.rl:drivestack/Highway-v0"`` so the child imports this module first): one per scenario.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import gymnasium as gym
import numpy as np

from control.controller import TrackingController
from fusion.tracker import wrap_angle
from planning.action_mask import safe_substitute
from planning.behaviour import BEHAVIOURS, BehaviourConfig, BehaviourPlanner
from planning.observation import ObservationConfig, observe
from sim.config import CONFIG_DIR, apply_overrides, from_dict, load_yaml
from sim.loop.drivers import StackDriver
from sim.loop.setup import build_setup, open_env
from sim.loop.tick import Episode
from sim.loop.world_sources import make_world_source
from sim.rl.reward import RewardConfig, TickSample, decision_reward

ENV_CONFIG_FILE = CONFIG_DIR / "rl" / "env.yaml"


@dataclass(frozen=True)
class DriveEnvConfig:
    world_model: str = "surrogate"
    train_seed_start: int = 100_000
    train_seed_count: int = 100_000
    behaviour: BehaviourConfig = field(default_factory=BehaviourConfig)
    """Its ``planner`` part is replaced by configs/planners/rule.yaml (via ``build_setup``)."""
    observation: ObservationConfig = field(default_factory=ObservationConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)


def load_env_config(overrides: list[str] | None = None, path: str | Path = ENV_CONFIG_FILE) -> DriveEnvConfig:
    """configs/rl/env.yaml with ``key=value`` overrides (keys relative to the file)."""
    return from_dict(DriveEnvConfig, apply_overrides(load_yaml(Path(path)), overrides or []), "env.")


def split_env_overrides(overrides: list[str]) -> tuple[list[str], list[str]]:
    """(``env.*`` overrides without the prefix, every other override)."""
    env = [o.split(".", 1)[1] for o in overrides if o.startswith("env.")]
    return env, [o for o in overrides if not o.startswith("env.")]


class DriveEnv(gym.Env):
    """Behaviour-level driving on the project's world model (Discrete(9) actions, Box(-1, 1) observations)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, scenario: str = "highway", world_model: str | None = None, overrides: list[str] | tuple = (),
                 render_mode: str | None = None) -> None:
        env_overrides, other = split_env_overrides(list(overrides))
        self.config = load_env_config(env_overrides)
        if world_model is not None:
            self.config = replace(self.config, world_model=world_model)
        self.setup = build_setup(scenario, "rule", self.config.world_model, other)
        self.behaviour = replace(self.config.behaviour, planner=self.setup.planner_config)
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (self.config.observation.size,), np.float32)
        self.action_space = gym.spaces.Discrete(len(BEHAVIOURS))
        self.executor = BehaviourPlanner(self.behaviour)
        self.driver = StackDriver("rl", self.executor, TrackingController(self.setup.controller_config))
        self.source = make_world_source(self.config.world_model, self.setup.perception, self.setup.rig)
        self._env = None
        self._episode: Episode | None = None

    @property
    def ticks_per_decision(self) -> int:
        return max(1, int(round(self.behaviour.decision_period_s * self.setup.scenario.policy_frequency_hz)))

    @property
    def max_ticks(self) -> int:
        """The scenario's duration in ticks: an episode is truncated there, as ``simulate`` ends one
        (some highway-env scenarios, merge among them, have no time limit of their own)."""
        sc = self.setup.scenario
        return int(round(sc.duration_s * sc.policy_frequency_hz))

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        c = self.config
        episode_seed = (options or {}).get("episode_seed")
        if episode_seed is None:
            episode_seed = int(self.np_random.integers(c.train_seed_start, c.train_seed_start + c.train_seed_count))
        if self._env is None:
            self._env = open_env(self.setup, render=self.render_mode == "rgb_array")
        self.episode_seed = int(episode_seed)
        self._episode = Episode(self._env, self.setup, self.episode_seed, driver=self.driver, source=self.source)
        self._distance_m, self._speed_sum, self._crashed, self._interventions = 0.0, 0.0, False, 0
        return self._observe(), self._info({})

    def action_masks(self) -> np.ndarray:
        """The behaviours the safety mask allows now (sb3-contrib's ``MaskablePPO`` reads this)."""
        return self.executor.action_mask(self._episode.perceive())

    @property
    def _tick(self) -> int:
        return self._episode.index if self._episode is not None else 0

    def step(self, action):
        if self._episode is None:
            raise RuntimeError("call reset() before step()")
        world, action = self._episode.perceive(), int(action)
        mask = self.executor.action_mask(world)
        if not mask[action]:  # the policy cannot bypass the safety mask (planning.action_mask)
            action = safe_substitute(action, mask)
            self._interventions += 1
        self.executor.decide(world, BEHAVIOURS[action])
        samples, terminated, truncated = [], False, False
        for _ in range(self.ticks_per_decision):
            sample, terminated, truncated = self._tick_once()
            samples.append(sample)
            if terminated or truncated:
                break
        dt = self.setup.scenario.dt_s
        reward, terms = decision_reward(samples, self._crashed, dt, self.config.reward)
        return self._observe(), reward, terminated, truncated and not terminated, self._info(terms)

    def _tick_once(self) -> tuple[TickSample, bool, bool]:
        record = self._episode.tick()
        world = self._episode.perceive()  # the state after the step: what the next decision sees
        self._crashed = record.crashed
        sample = self._sample(self._env.unwrapped.vehicle, record.command.accel_mps2,
                              wrap_angle(world.ego.yaw_rad - record.world.ego.yaw_rad))
        self._distance_m += sample.along_lane_mps * self.setup.scenario.dt_s
        self._speed_sum += sample.speed_mps
        return sample, bool(record.terminated or self._crashed), record.truncated or self._tick >= self.max_ticks

    def _sample(self, ego, accel_mps2: float, yaw_change_rad: float) -> TickSample:
        dt = self.setup.scenario.dt_s
        yaw_rate = float(yaw_change_rad) / dt
        lane = ego.lane
        if lane is None:
            return TickSample(float(ego.speed), float(ego.speed), 1.0, False, accel_mps2, yaw_rate)
        s, lat = lane.local_coordinates(ego.position)
        along = float(ego.speed * np.cos(ego.heading - lane.heading_at(s)))
        frac = float(lat) / (float(lane.width_at(s)) / 2.0)
        return TickSample(float(ego.speed), along, frac, bool(ego.on_road), accel_mps2, yaw_rate)

    def _observe(self) -> np.ndarray:
        return observe(self._episode.perceive(), self.executor.state, self.config.observation)

    def _info(self, terms: dict) -> dict:
        ticks = max(self._tick, 1)
        return {"crashed": self._crashed, "episode_seed": self.episode_seed, "tick": self._tick,
                "distance_m": self._distance_m, "mean_speed_mps": self._speed_sum / ticks if self._tick else 0.0,
                "interventions": self._interventions, "reward_terms": terms}

    def render(self):
        if self.render_mode == "rgb_array" and self._env is not None:
            return self._env.render()
        return None

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
            self._env = None


SCENARIO_ENV_IDS = {"highway": "drivestack/Highway-v0", "merge": "drivestack/Merge-v0",
                    "roundabout": "drivestack/Roundabout-v0", "intersection": "drivestack/Intersection-v0",
                    "exit": "drivestack/Exit-v0"}

for _scenario, _env_id in SCENARIO_ENV_IDS.items():
    if _env_id not in gym.registry:
        gym.register(id=_env_id, entry_point="sim.rl.env:DriveEnv", kwargs={"scenario": _scenario})
