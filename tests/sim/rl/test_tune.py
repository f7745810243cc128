"""drivestack tune: the sweep YAML is checked, each point of the search space becomes the right
training settings, and a tiny sweep runs end to end on an embedded Ray (slow)."""
import json

import pytest

from sim.rl.tune import TuneSpec, load_spec, param_space, trial_settings


def _write(tmp_path, text):
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    return path


def test_a_point_of_the_search_space_becomes_training_settings(tmp_path):
    spec = TuneSpec(timesteps=300, eval_freq=100, overrides=("scenario.duration_s=5",), search={"seed": [0]})
    s = trial_settings(spec, {"seed": 3, "algo": "ppo", "hyper.learning_rate": 1e-4, "env.reward.w_lane": 0.0},
                       tmp_path)
    assert (s.seed, s.algo, s.timesteps, s.eval_freq, s.out) == (3, "ppo", 300, 100, tmp_path)
    assert s.hyperparameters == (("learning_rate", 1e-4),)
    assert s.overrides == ("scenario.duration_s=5", "env.reward.w_lane=0.0")


def test_search_space_kinds():
    pytest.importorskip("ray")
    space = param_space({"seed": [0, 1], "hyper.learning_rate": {"low": 1e-4, "high": 1e-3, "log": True},
                         "algo": {"choice": ["dqn", "ppo"]}})
    assert space["seed"] == {"grid_search": [0, 1]}
    assert 1e-4 <= space["hyper.learning_rate"].sample() <= 1e-3 and space["algo"].sample() in ("dqn", "ppo")
    with pytest.raises(ValueError, match="tune.search.seed"):
        param_space({"seed": 3})


@pytest.mark.parametrize("text, needle", [
    ("search: {}", "nothing to sweep"),
    ("timesteps: 0\nsearch: {seed: [0]}", "tune.timesteps"),
    ("search: {learning_rate: [0.1]}", "tune.search.learning_rate"),
    ("env: moon\nsearch: {seed: [0]}", "'moon'"),
    ("nope: 1\nsearch: {seed: [0]}", "tune.nope"),
])
def test_bad_sweep_files_name_the_key(tmp_path, text, needle):
    with pytest.raises(ValueError, match=needle):
        load_spec(_write(tmp_path, text))


@pytest.mark.slow
def test_a_tiny_sweep_ranks_its_trials_and_writes_the_best_policy(tmp_path, capsys):
    ray = pytest.importorskip("ray")
    from sim.cli.main import main

    config = _write(tmp_path, "timesteps: 200\neval_freq: 100\neval_episodes: 1\nasha: {grace_period: 100}\n"
                              "overrides: [scenario.duration_s=4]\n"
                              "search: {seed: [0, 1], hyper.learning_starts: [50]}\n")
    try:
        code = main(["tune", "--config", str(config), "--out", str(tmp_path / "out"), "--workers", "2"])
    finally:
        ray.shutdown()
    assert code == 0
    report = json.loads((tmp_path / "out" / "tune.json").read_text())
    assert len(report["trials"]) == 2 and all(t["error"] is None for t in report["trials"])
    objectives = [t["best"]["objective"] for t in report["trials"]]
    assert objectives == sorted(objectives, reverse=True)
    assert (tmp_path / "out" / "best_policy.zip").exists() and "seed" in (tmp_path / "out" / "best_policy.md").read_text()
