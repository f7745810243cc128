"""highway-env environments adapted to continuous actions, registered under drivestack ids.

Merge and roundabout compute a lane-change reward with ``action in [0, 2]``, which only works for
discrete actions (a continuous action array raises). Their variants here score rewards without
that term; dynamics, traffic and termination are unchanged.
"""
from __future__ import annotations

import gymnasium as gym
from highway_env.envs.merge_env import MergeEnv
from highway_env.envs.roundabout_env import RoundaboutEnv


class _NoDiscreteActionReward:
    def _rewards(self, action):  # noqa: D401 - same contract as highway-env's
        return super()._rewards(None)


class ContinuousMergeEnv(_NoDiscreteActionReward, MergeEnv):
    pass


class ContinuousRoundaboutEnv(_NoDiscreteActionReward, RoundaboutEnv):
    pass


ENV_IDS = {
    "drivestack/merge-continuous-v0": "sim.highway.envs:ContinuousMergeEnv",
    "drivestack/roundabout-continuous-v0": "sim.highway.envs:ContinuousRoundaboutEnv",
}

for _env_id, _entry in ENV_IDS.items():
    if _env_id not in gym.registry:
        gym.register(id=_env_id, entry_point=_entry)
