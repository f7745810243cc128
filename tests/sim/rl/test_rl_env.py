"""DriveEnv: both check_envs on every registered id, determinism, SB3 training, resume, and the
policy in the closed loop driving exactly as it did in the environment."""
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from sim.rl.env import SCENARIO_ENV_IDS, DriveEnv
from sim.rl.train import PolicyTrainSettings, latest_checkpoint, scenario_of, train_policy

SHORT = ["scenario.duration_s=3"]


@pytest.mark.parametrize("env_id", sorted(SCENARIO_ENV_IDS.values()))
def test_every_registered_env_passes_both_check_envs(env_id):
    env = gym.make(env_id, overrides=SHORT)
    try:
        gym_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped, warn=True)
        obs, info = env.reset(seed=1)
        assert env.observation_space.contains(obs) and env.action_space.n == 9
    finally:
        env.close()


def test_module_qualified_id_imports_the_env_in_a_fresh_process():
    import subprocess
    import sys

    code = ("import gymnasium as gym; e = gym.make('sim.rl:drivestack/Highway-v0', world_model='ground_truth', "
            "overrides=['scenario.duration_s=1']); o, _ = e.reset(seed=0); print(o.shape)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("(80,)")


def _rollout(env: DriveEnv, seed: int, actions: list[int]):
    obs, _ = env.reset(seed=seed)
    seen, rewards = [obs], []
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        seen.append(obs)
        rewards.append(r)
        if term or trunc:
            break
    return np.array(seen), np.array(rewards), info


def test_same_seed_same_episode_and_episode_ends_on_time():
    env = DriveEnv("highway", "surrogate", SHORT)
    try:
        actions = [0, 3, 1, 6, 2, 0, 0]
        a = _rollout(env, 5, actions)
        b = _rollout(env, 5, actions)
        c = _rollout(env, 6, actions)
    finally:
        env.close()
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    assert len(a[1]) == 6 and a[2]["tick"] == 30  # 3 s at 10 Hz in 0.5 s decisions
    assert a[2]["distance_m"] > 30.0 and np.all(np.isfinite(a[1]))
    assert a[0][-1][8:].any()  # tracks appear in the observation once the tracker confirms them


def _hold_lane_and_speed(scenario: str, duration_s: float, seed: int = 123400):
    env = DriveEnv(scenario, "ground_truth", [f"scenario.duration_s={duration_s}"])
    try:
        env.reset(options={"episode_seed": seed})
        for _ in range(int(2 * duration_s) + 10):  # more decisions than the duration holds
            _, _, term, trunc, info = env.step(0)
            if term or trunc:
                break
        return term, trunc, info, env._episode.perceive().ego_lane_id
    finally:
        env.close()


def test_merge_episode_ends_at_the_scenario_duration():
    # highway-env's merge has no time limit of its own: the env ends it at the scenario's duration.
    term, trunc, info, _ = _hold_lane_and_speed("merge", 12.0)
    assert trunc and not term and info["tick"] == 120


def test_the_policy_executor_drives_through_segment_ends_and_roundabouts():
    # Holding lane and speed, the ego reaches the end of the merge road (a lane end with a successor
    # is no stop line) and goes round the roundabout (the entry's yield is gap acceptance, not a wall).
    term, trunc, info, lane = _hold_lane_and_speed("merge", 20.0)
    assert term and not info["crashed"] and lane.startswith("c>d")
    term, trunc, info, _ = _hold_lane_and_speed("roundabout", 15.0)
    assert not info["crashed"] and info["distance_m"] > 80.0


def test_collision_ends_the_episode_with_the_penalty():
    env = DriveEnv("highway", "ground_truth", ["scenario.duration_s=20", "env.reward.w_collision=7"])
    try:
        env.reset(seed=3)
        base = env._env.unwrapped
        blocker = next(v for v in base.road.vehicles if v is not base.vehicle)
        blocker.position = base.vehicle.position + np.array([6.0, 0.0])  # 1 m bumper gap, standing still
        blocker.heading, blocker.speed = base.vehicle.heading, 0.0
        _, r, term, trunc, info = env.step(0)
    finally:
        env.close()
    assert info["crashed"] and term and not trunc
    assert r < -6.0 and info["reward_terms"]["collision"] == 1.0


@pytest.mark.parametrize("algo", ["ppo", "dqn"])
def test_sb3_learns_for_a_few_updates(algo):
    env = DriveEnv("highway", "surrogate", ["scenario.duration_s=5"])
    try:
        model = (PPO("MlpPolicy", env, n_steps=30, batch_size=30, n_epochs=1, seed=0) if algo == "ppo"
                 else DQN("MlpPolicy", env, learning_starts=20, train_freq=4, buffer_size=1000, seed=0))
        model.learn(60)
        assert model.num_timesteps >= 60
        assert model._n_updates >= 2  # the loop reached the optimiser, not only the rollouts
    finally:
        env.close()


def test_train_command_with_subprocesses_checkpoints_and_resume(tmp_path):
    s = PolicyTrainSettings("dqn", "highway", "ground_truth", timesteps=40, n_envs=2, seed=0, out=tmp_path,
                            eval_freq=20, eval_episodes=1, checkpoint_freq=20, overrides=("scenario.duration_s=2",))
    first = train_policy(s)
    assert first["timesteps"] == 40 and (tmp_path / "best_model.zip").exists()
    assert latest_checkpoint(tmp_path).name == "policy_40_steps.zip"
    assert (tmp_path / "checkpoints" / "policy_replay_buffer_40_steps.pkl").exists()
    assert list((tmp_path / "tb").glob("dqn_*/events.out.tfevents.*"))
    again = train_policy(PolicyTrainSettings(**{**s.__dict__, "timesteps": 60, "resume": True}))
    assert again["timesteps"] == 60
    assert (tmp_path / "eval.csv").read_text().count("\n") >= 4


def test_unknown_env_is_a_clear_error():
    with pytest.raises(ValueError, match="valid: drivestack/Exit-v0"):
        scenario_of("drivestack/Moon-v0")


def test_policy_in_the_closed_loop_drives_as_in_the_env(tmp_path):
    """The same policy, seed and world model give the same ego path through DriveEnv and through
    ``simulate --planner rl``: one decision pipeline, two front ends."""
    from planning.rl_policy import load_policy
    from sim.loop.runner import run_episode
    from sim.loop.setup import build_setup

    s = PolicyTrainSettings("dqn", "highway", "ground_truth", timesteps=30, n_envs=1, seed=0, out=tmp_path,
                            eval_freq=1000, eval_episodes=1, checkpoint_freq=1000, overrides=("scenario.duration_s=4",))
    train_policy(s)
    policy = load_policy(tmp_path / "final.zip")
    env = DriveEnv("highway", "ground_truth", ["scenario.duration_s=4"])
    xs = []
    try:
        obs, _ = env.reset(options={"episode_seed": 11})
        done = False
        while not done:
            obs, _, term, trunc, _ = env.step(policy.act(obs))
            xs.append(env._env.unwrapped.vehicle.position[0])
            done = term or trunc
    finally:
        env.close()
    log = run_episode(build_setup("highway", "rl", "ground_truth", ["scenario.duration_s=4"],
                                  str(tmp_path / "final.zip")), seed=11)
    assert log.x_m[5::5][: len(xs)] == pytest.approx(np.array(xs), abs=1e-6)


@pytest.mark.parametrize("args, needle", [
    (["train", "--model", "camera"], "needs --data"),
    (["train", "--model", "policy", "--env", "drivestack/Moon-v0"], "unknown environment"),
    (["train", "--model", "policy", "--timesteps", "0"], "--timesteps must be at least 1"),
    (["simulate", "--planner", "rl", "--policy", "no/such/policy.zip"], "policy file not found"),
    (["bench-rl", "--world-models", "lidar"], "unknown world model"),
])
def test_rl_command_errors_are_one_line_and_exit_2(args, needle, capsys):
    from sim.cli.main import main

    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1


def test_simulate_with_the_shipped_policy(capsys):
    from sim.cli.main import main

    assert main(["simulate", "--planner", "rl", "--world-model", "surrogate", "--set", "scenario.duration_s=3"]) == 0
    assert "rl       surrogate" in capsys.readouterr().out


def test_bench_rl_prints_the_ratio_to_the_bare_step(tmp_path, capsys):
    import json

    from sim.cli.main import main

    out = tmp_path / "b.json"
    assert main(["bench-rl", "--world-models", "surrogate", "--steps", "3", "--repeats", "1",
                 "--set", "scenario.duration_s=2", "--json", str(out)]) == 0
    assert "x bare" in capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["median"]["surrogate_ratio"] > 0 and result["ticks_per_decision"] == 5
