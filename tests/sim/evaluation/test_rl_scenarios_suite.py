"""The per-scenario RL suite: every scenario's rl planner drives that scenario's own shipped policy."""
from pathlib import Path

from sim.evaluation.suite import load_suite
from sim.loop.setup import build_setup


def test_rl_scenarios_suite_gives_each_scenario_its_own_policy():
    suite = load_suite("rl_scenarios")
    assert set(suite.scenarios) == {"merge", "roundabout", "intersection", "exit"}
    assert suite.planners == ("rl", "rule") and suite.world_models == ("perception",)
    for scenario in suite.scenarios:
        setup = build_setup(scenario, "rl", "ground_truth")
        assert Path(setup.policy_file).name == f"{scenario}_dqn.zip"
    assert Path(build_setup("highway", "rl", "ground_truth").policy_file).name == "highway_dqn.zip"
