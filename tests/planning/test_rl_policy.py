"""Policy files: save/load round trip, metadata checks and clear errors on bad files."""
import json
import zipfile

import gymnasium as gym
import numpy as np
import pytest
from conftest import make_world, straight_lane_map

from planning.behaviour import BEHAVIOURS, BehaviourConfig
from planning.observation import ObservationConfig
from planning.planner import make_planner
from planning.rl_policy import META_KEY, RLPlanner, load_policy, make_meta, read_meta

OBS = ObservationConfig()


class _ShapeEnv(gym.Env):
    """Stand-in with the policy's spaces (no simulator): random observations, zero reward."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (OBS.size,), np.float32)
    action_space = gym.spaces.Discrete(len(BEHAVIOURS))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action):
        return self.observation_space.sample(), 0.0, False, False, {}


def _save_policy(path, algo="dqn", meta=None):
    from stable_baselines3 import DQN, PPO

    env = _ShapeEnv()
    model = (DQN("MlpPolicy", env, learning_starts=10, seed=0) if algo == "dqn"
             else PPO("MlpPolicy", env, n_steps=32, batch_size=32, seed=0))
    model.learn(64)
    model.drivestack_meta = meta if meta is not None else make_meta(algo, OBS, BehaviourConfig()).to_dict()
    model.save(path)
    return model


@pytest.mark.parametrize("algo", ["dqn", "ppo"])
def test_save_load_round_trip_gives_identical_actions(tmp_path, algo):
    model = _save_policy(tmp_path / "p.zip", algo)
    loaded = load_policy(tmp_path / "p.zip")
    obs = np.random.default_rng(0).uniform(-1, 1, (50, OBS.size)).astype(np.float32)
    expected = [int(model.predict(o, deterministic=True)[0]) for o in obs]
    assert [loaded.act(o) for o in obs] == expected
    assert loaded.meta.algo == algo and loaded.meta.observation == OBS


def test_corrupt_and_foreign_files_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="not a readable policy file"):
        load_policy(bad)
    with pytest.raises(ValueError, match="not found"):
        load_policy(tmp_path / "missing.zip")
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("data", json.dumps({"policy_class": "x"}))
    with pytest.raises(ValueError, match="no drivestack policy metadata"):
        read_meta(foreign)


def test_truncated_policy_file_is_a_clear_error(tmp_path):
    _save_policy(tmp_path / "p.zip")
    raw = (tmp_path / "p.zip").read_bytes()
    (tmp_path / "cut.zip").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="cut.zip"):
        load_policy(tmp_path / "cut.zip")


def test_incompatible_observation_layout_is_refused(tmp_path):
    meta = make_meta("dqn", OBS, BehaviourConfig()).to_dict()
    meta["layout_id"] = meta["layout_id"].replace("drivestack-obs-v1", "drivestack-obs-v0")
    _save_policy(tmp_path / "old.zip", meta=meta)
    with pytest.raises(ValueError, match="observation layout"):
        load_policy(tmp_path / "old.zip")
    meta = make_meta("dqn", ObservationConfig(max_tracks=4), BehaviourConfig()).to_dict()
    _save_policy(tmp_path / "k4.zip", meta=meta)  # says K=4, but the network takes K=8 inputs
    with pytest.raises(ValueError, match="do not match"):
        load_policy(tmp_path / "k4.zip")
    with zipfile.ZipFile(tmp_path / "old.zip") as zf:
        assert META_KEY in json.loads(zf.read("data"))


def test_rl_planner_decides_every_period_and_holds_in_between(tmp_path):
    _save_policy(tmp_path / "p.zip")
    planner = make_planner("rl", policy_file=tmp_path / "p.zip")
    assert isinstance(planner, RLPlanner)
    lm = straight_lane_map(3)
    decisions = []
    for k in range(12):  # 10 Hz ticks, 0.5 s decisions -> ticks 0, 5, 10
        world = make_world(lm, (k * 2.0, -4.0, 20.0), [], "a>b>1", stamp=k * 0.1)
        before = planner.last_action, planner._next_decision_s
        traj = planner.plan(world)
        decisions.append(planner._next_decision_s != before[1])
        assert traj.xy_m.shape[1] == 2 and np.all(np.isfinite(traj.speed_mps))
    assert [k for k, d in enumerate(decisions) if d] == [0, 5, 10]
    with pytest.raises(ValueError, match="needs a policy file"):
        make_planner("rl")


def test_shipped_policy_matches_this_code():
    from planning.rl_policy import SHIPPED_POLICY

    policy = load_policy(SHIPPED_POLICY)
    assert policy.meta.layout_id == OBS.layout_id and policy.meta.algo == "dqn"
    assert policy.meta.extra["world_model"] == "surrogate"
    obs = np.zeros(OBS.size, dtype=np.float32)
    assert 0 <= policy.act(obs) < len(BEHAVIOURS)


def test_a_scenario_with_its_own_policy_file_gets_it_and_the_others_the_highway_one(tmp_path, monkeypatch):
    import planning.rl_policy as rl_policy

    monkeypatch.setattr(rl_policy, "POLICY_DIR", tmp_path)
    (tmp_path / "merge_dqn.zip").write_bytes(b"any")
    assert rl_policy.shipped_policy("merge") == tmp_path / "merge_dqn.zip"
    assert rl_policy.shipped_policy("exit") == rl_policy.SHIPPED_POLICY



@pytest.mark.parametrize("scenario", ["merge", "roundabout", "intersection", "exit"])
def test_every_scenario_ships_a_policy_trained_on_it_with_a_card(scenario):
    from planning.rl_policy import POLICY_DIR, shipped_policy

    path = shipped_policy(scenario)
    assert path == POLICY_DIR / f"{scenario}_dqn.zip" and path.with_suffix(".md").exists()
    policy = load_policy(path)
    assert policy.meta.layout_id == OBS.layout_id and policy.meta.extra["scenario"] == scenario
