"""Reinforcement learning on the world model: the Gymnasium environment ``DriveEnv`` (importing
this package registers ``drivestack/Highway-v0``, ``Merge-v0``, ``Roundabout-v0``,
``Intersection-v0`` and ``Exit-v0``; in subprocesses use ``"sim.rl:drivestack/Highway-v0"``), its
reward, SB3 training and the validation callback."""
from sim.rl.env import SCENARIO_ENV_IDS, DriveEnv, DriveEnvConfig, load_env_config
from sim.rl.reward import RewardConfig, TickSample, decision_reward

__all__ = ["DriveEnv", "DriveEnvConfig", "RewardConfig", "SCENARIO_ENV_IDS", "TickSample", "decision_reward",
           "load_env_config"]
