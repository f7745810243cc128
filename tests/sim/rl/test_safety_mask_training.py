"""The safety mask in training: the env replaces a masked behaviour whatever the algorithm picks, and
a mask-aware algorithm (MaskablePPO) trains, saves a policy the planner loads, and never needs that."""
import numpy as np

from planning.rl_policy import RLPlanner, load_policy
from sim.rl.env import DriveEnv
from sim.rl.train import PolicyTrainSettings, train_policy

SHORT = ["scenario.duration_s=3"]


def test_the_env_replaces_masked_behaviours_and_counts_them():
    env = DriveEnv("highway", "ground_truth", SHORT)
    refused, info = 0, {}
    try:
        env.reset(options={"episode_seed": 5})  # lane changes and speed-ups refused within 1.5 s
        for _ in range(6):
            mask = env.action_masks()
            assert mask.shape == (9,) and mask[0]  # keeping lane and speed is always allowed
            wanted = int(np.flatnonzero(~mask)[0]) if not mask.all() else 1  # a forbidden one when there is one
            refused += int(not mask[wanted])
            _, _, term, trunc, info = env.step(wanted)
            if term or trunc:
                break
    finally:
        env.close()
    assert refused > 0 and info["interventions"] == refused


def test_maskable_ppo_trains_and_never_picks_a_masked_behaviour(tmp_path):
    s = PolicyTrainSettings("maskable_ppo", "highway", "ground_truth", timesteps=16, n_envs=1, seed=0, out=tmp_path,
                            eval_freq=1000, eval_episodes=1, checkpoint_freq=1000, overrides=tuple(SHORT),
                            hyperparameters=(("n_steps", 8), ("batch_size", 8), ("n_epochs", 1)))
    train_policy(s)
    policy = load_policy(tmp_path / "final.zip")
    assert policy.meta.algo == "maskable_ppo" and (tmp_path / "learning_curves.png").is_file()
    env = DriveEnv("highway", "ground_truth", SHORT)
    try:
        obs, info = env.reset(options={"episode_seed": 5})
        done = False
        while not done:
            action, _ = policy.model.predict(obs, deterministic=True, action_masks=env.action_masks())
            obs, _, term, trunc, info = env.step(int(action))
            done = term or trunc
    finally:
        env.close()
    assert info["tick"] > 0 and info["interventions"] == 0
    assert isinstance(RLPlanner(policy_file=tmp_path / "final.zip").policy.model, type(policy.model))
