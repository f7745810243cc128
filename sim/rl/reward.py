"""The RL environment's reward, from the simulator's ground truth over the ticks of one decision.

Per decision (all terms averaged over its ticks, weights in ``configs/rl/env.yaml``):

    r = w_speed * clip((v - v_lo) / (v_hi - v_lo), 0, 1)          speed in the rewarded range
      + w_progress * (distance along the lane) / (v_hi * period)     progress along the road
      - w_comfort * min(1, (a_long^2 + a_lat^2) / comfort_accel^2)   comfort (accel from the commands)
      - w_lane * min(1, |lane offset| / (lane width / 2))^2          staying in lane (1 when off road)
      - w_collision                                                  once, when the ego crashes
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RewardConfig:
    w_speed: float = 0.4
    speed_range_mps: tuple[float, ...] = (20.0, 30.0)
    w_progress: float = 0.4
    w_comfort: float = 0.1
    comfort_accel_mps2: float = 3.0
    w_lane: float = 0.1
    w_collision: float = 5.0


@dataclass(frozen=True)
class TickSample:
    """What the reward needs from one tick: ego speed [m/s], speed along its lane [m/s], lane
    offset as a fraction of half the lane width, whether it is on a road, the commanded
    longitudinal acceleration [m/s^2] and yaw rate [rad/s]."""

    speed_mps: float
    along_lane_mps: float
    offset_frac: float
    on_road: bool
    accel_mps2: float
    yaw_rate_radps: float


def decision_reward(samples: list[TickSample], crashed: bool, dt_s: float, cfg: RewardConfig) -> tuple[float, dict]:
    """Reward of one decision and its terms (for logging)."""
    if not samples:
        return (-cfg.w_collision if crashed else 0.0), {}
    v = np.array([s.speed_mps for s in samples])
    lo, hi = cfg.speed_range_mps
    speed = float(np.mean(np.clip((v - lo) / (hi - lo), 0.0, 1.0)))
    progress = float(np.sum([s.along_lane_mps for s in samples]) * dt_s / (hi * dt_s * len(samples)))
    a_lat = v * np.array([s.yaw_rate_radps for s in samples])
    a_long = np.array([s.accel_mps2 for s in samples])
    comfort = float(np.mean(np.minimum(1.0, (a_long ** 2 + a_lat ** 2) / cfg.comfort_accel_mps2 ** 2)))
    lane = float(np.mean([1.0 if not s.on_road else min(1.0, abs(s.offset_frac)) ** 2 for s in samples]))
    terms = {"speed": speed, "progress": progress, "comfort": comfort, "lane": lane, "collision": float(crashed)}
    reward = (cfg.w_speed * speed + cfg.w_progress * progress - cfg.w_comfort * comfort - cfg.w_lane * lane
              - cfg.w_collision * float(crashed))
    return float(reward), terms
