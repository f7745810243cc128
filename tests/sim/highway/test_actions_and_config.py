"""Commands reaching the environment are always safe; configs reject bad keys and values."""
import numpy as np
import pytest

from control import Command, VehicleParams
from sim.highway.actions import command_to_action
from sim.config import apply_overrides, from_dict
from sim.highway.scenarios import ScenarioConfig, load_scenario
from sim.loop.setup import build_setup


def test_command_maps_linearly_onto_the_action_range():
    veh = VehicleParams()
    a = command_to_action(Command(0.0, veh.max_accel_mps2, 0.0), veh)
    b = command_to_action(Command(0.0, veh.min_accel_mps2, 0.0), veh)
    assert np.allclose(a, [1.0, 0.0]) and np.allclose(b, [-1.0, 0.0])
    # positive (left) steering in the map frame is negative steering in highway-env
    assert command_to_action(Command(0.0, 0.0, 0.25), veh)[1] == pytest.approx(-0.25 / veh.max_steering_rad)


@pytest.mark.parametrize("cmd", [None, Command(0.0, np.nan, 0.1), Command(0.0, 1.0, np.inf)])
def test_missing_or_non_finite_commands_brake_with_straight_wheels(cmd):
    action = command_to_action(cmd, VehicleParams())
    assert np.all(np.isfinite(action))
    assert action[0] == -1.0 if cmd is None or not np.isfinite(cmd.accel_mps2) else True
    if cmd is None or not np.isfinite(cmd.steering_rad):
        assert action[1] == 0.0


def test_out_of_range_commands_are_clipped():
    action = command_to_action(Command(0.0, 100.0, -3.0), VehicleParams())
    assert np.all(np.abs(action) <= 1.0) and action[0] == 1.0 and action[1] == 1.0


def test_unknown_config_key_names_the_valid_keys():
    with pytest.raises(ValueError, match="unknown config key 'scenario.nope'; valid: .*scenario.duration_s"):
        load_scenario("highway", ["nope=1"])


def test_bad_value_type_is_reported():
    with pytest.raises(ValueError, match="planner.horizon_s' expects a number"):
        build_setup("highway", "rule", "ground_truth", ["planner.horizon_s=abc"])


def test_overrides_reach_nested_dataclasses():
    setup = build_setup("highway", "rule", "ground_truth",
                        ["planner.idm.headway_s=2.5", "scenario.env.vehicles_count=10", "controller.vehicle.max_accel_mps2=2"])
    assert setup.planner_config.idm.headway_s == 2.5
    assert setup.scenario.env["vehicles_count"] == 10
    assert setup.controller_config.vehicle.max_accel_mps2 == 2.0
    assert setup.planner_config.controller.vehicle.max_accel_mps2 == 2.0


@pytest.mark.parametrize("what,args", [("scenario", ("nowhere", "rule", "ground_truth")),
                                       ("planner", ("highway", "magic", "ground_truth")),
                                       ("world model", ("highway", "rule", "oracle"))])
def test_unknown_names_list_valid_choices(what, args):
    with pytest.raises(ValueError, match=f"unknown {what} .*valid: "):
        build_setup(*args)


def test_from_dict_and_overrides_round_trip():
    data = apply_overrides({"name": "x", "env_id": "highway-v0", "duration_s": 5}, ["seed=7", "env.lanes_count=3"])
    cfg = from_dict(ScenarioConfig, data)
    assert cfg.seed == 7 and cfg.env == {"lanes_count": 3} and cfg.duration_s == 5.0
