"""BehaviourPlanner: decisions move the target lane / speed; plans follow them with IDM."""
import numpy as np
import pytest
from conftest import make_track, make_world, straight_lane_map

from planning.behaviour import BEHAVIOURS, Behaviour, BehaviourConfig, BehaviourPlanner

KEEP, FASTER, SLOWER = Behaviour(0, 0), Behaviour(0, 1), Behaviour(0, -1)
LEFT, RIGHT = Behaviour(1, 0), Behaviour(-1, 0)


def test_action_table_is_lane_major_and_complete():
    assert len(BEHAVIOURS) == 9 and len(set(BEHAVIOURS)) == 9
    assert BEHAVIOURS[0] == KEEP and BEHAVIOURS[3] == LEFT and BEHAVIOURS[6] == RIGHT
    assert BEHAVIOURS[1] == FASTER and BEHAVIOURS[5] == Behaviour(1, -1)
    assert BEHAVIOURS[7].name == "right+faster"


def test_lane_changes_move_the_target_one_lane_and_can_be_aborted():
    lm = straight_lane_map(3)
    world = make_world(lm, (0.0, -4.0, 20.0), [], "a>b>1")
    p = BehaviourPlanner()
    assert p.decide(world, KEEP).target_lane_id == "a>b>1"
    assert p.decide(world, LEFT).target_lane_id == "a>b>0"
    assert p.decide(world, LEFT).target_lane_id == "a>b>0"  # two lanes away from the ego: ignored
    assert p.decide(world, RIGHT).target_lane_id == "a>b>1"  # abort
    assert p.decide(world, RIGHT).target_lane_id == "a>b>2"


def test_no_lane_beyond_the_road_edge():
    lm = straight_lane_map(2)
    p = BehaviourPlanner()
    assert p.decide(make_world(lm, (0.0, 0.0, 20.0), [], "a>b>0"), LEFT).target_lane_id == "a>b>0"


def test_target_speed_steps_and_is_clipped():
    cfg = BehaviourConfig(speed_step_mps=2.0, min_target_speed_mps=5.0)
    lm = straight_lane_map(3, speed_limit_mps=30.0)
    world = make_world(lm, (0.0, -4.0, 20.0), [], "a>b>1")
    p = BehaviourPlanner(cfg)
    assert p.decide(world, KEEP).target_speed_mps == pytest.approx(30.0)  # starts at the limit
    assert p.decide(world, FASTER).target_speed_mps == pytest.approx(30.0)
    assert p.decide(world, SLOWER).target_speed_mps == pytest.approx(28.0)
    for _ in range(20):
        state = p.decide(world, SLOWER)
    assert state.target_speed_mps == pytest.approx(5.0)


def test_plan_follows_a_slow_leader_and_the_target_lane():
    lm = straight_lane_map(3)
    leader = make_track(1, 30.0, -4.0, 10.0, "a>b>1")
    world = make_world(lm, (0.0, -4.0, 20.0), [leader], "a>b>1")
    p = BehaviourPlanner()
    p.decide(world, KEEP)
    keep = p.plan(world)
    assert keep.speed_mps[-1] < 12.0  # IDM slows behind the 10 m/s leader
    assert np.allclose(keep.xy_m[:, 1], -4.0, atol=1e-6)
    p.decide(world, LEFT)
    left = p.plan(world)
    assert left.xy_m[-1, 1] == pytest.approx(0.0, abs=0.05)  # ends on the left lane's centre
    assert left.speed_mps[-1] > 25.0  # the left lane is free


def test_a_lane_change_under_way_is_aborted_when_a_car_comes_alongside():
    lm = straight_lane_map(3)
    p = BehaviourPlanner()
    clear = make_world(lm, (0.0, -4.0, 20.0), [], "a>b>1")
    p.decide(clear, LEFT)
    assert p.plan(clear).xy_m[-1, 1] == pytest.approx(0.0, abs=0.05) and p.aborted_changes == 0
    # a faster car now 4 m behind the ego on the target lane: the change must not go on
    alongside = make_world(lm, (0.0, -4.0, 20.0), [make_track(1, -4.0, 0.0, 24.0, "a>b>0")], "a>b>1")
    plan = p.plan(alongside)
    assert p.state.target_lane_id == "a>b>1" and p.aborted_changes == 1
    assert np.allclose(plan.xy_m[:, 1], -4.0, atol=1e-6)
    # and asking again is refused by the mask, which applies the same test
    assert not p.action_mask(alongside)[BEHAVIOURS.index(LEFT)]


def test_a_safe_lane_change_under_way_goes_on():
    lm = straight_lane_map(3)
    p = BehaviourPlanner()
    far = make_world(lm, (0.0, -4.0, 20.0), [make_track(1, -60.0, 0.0, 20.0, "a>b>0")], "a>b>1")
    p.decide(far, LEFT)
    for _ in range(3):
        plan = p.plan(far)
    assert p.state.target_lane_id == "a>b>0" and p.aborted_changes == 0
    assert plan.xy_m[-1, 1] == pytest.approx(0.0, abs=0.05)
