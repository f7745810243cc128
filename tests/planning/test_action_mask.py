"""The RL safety mask: lane changes only into safe gaps (front and rear), speed-ups only with a safe
headway; the policy's best allowed action is taken; the training env cannot be bypassed."""
import numpy as np
import pytest
from conftest import make_track, make_world, straight_lane_map

from planning.action_mask import SafetyMaskConfig, gap_is_safe, lane_gap, safe_substitute
from planning.behaviour import BEHAVIOURS, Behaviour, BehaviourPlanner

LANES = straight_lane_map(3)  # lane 0 leftmost at y=0, lane 1 at y=-4, lane 2 at y=-8
MIDDLE = "a>b>1"


def _mask(tracks, speed=25.0):
    planner = BehaviourPlanner()
    return planner.action_mask(make_world(LANES, (100.0, -4.0, speed), tracks, MIDDLE))


def _allowed(mask, lane_change, speed_change=0):
    return bool(mask[BEHAVIOURS.index(Behaviour(lane_change, speed_change))])


def test_a_clear_road_allows_everything():
    assert _mask([]).all()


@pytest.mark.parametrize("x, speed, left_ok", [
    (92.0, 25.0, False),   # behind, alongside: 3 m bumper gap
    (80.0, 33.0, False),   # 15 m bumper gap behind, closing at 8 m/s: under 2 s to contact
    (70.0, 25.0, True),    # 25 m behind at the ego's speed
    (112.0, 25.0, False),  # ahead: 7 m bumper gap, under the 8 m minimum
    (115.0, 25.0, True),   # ahead: 10 m at the ego's speed
])
def test_a_lane_change_needs_a_safe_gap_front_and_rear(x, speed, left_ok):
    mask = _mask([make_track(1, x, 0.0, speed)])
    assert _allowed(mask, 1) == left_ok
    assert _allowed(mask, -1)  # the right lane is empty
    assert _allowed(mask, 0, 1)  # nothing ahead in the own lane


def test_a_slow_car_ahead_in_the_target_lane_blocks_the_change():
    mask = _mask([make_track(1, 150.0, 0.0, 10.0)])  # 45 m ahead, closing at 15 m/s: 3 s
    assert not _allowed(mask, 1) and _allowed(mask, -1)


def test_speeding_up_needs_a_safe_headway():
    assert not _allowed(_mask([make_track(1, 130.0, -4.0, 25.0)]), 0, 1)  # 25 m at 25 m/s: 1 s
    assert _allowed(_mask([make_track(1, 150.0, -4.0, 25.0)]), 0, 1)  # 45 m: 1.8 s
    mask = _mask([make_track(1, 130.0, -4.0, 25.0)])
    assert _allowed(mask, 0, 0) and _allowed(mask, 0, -1)  # keeping or slowing is always allowed


def test_a_disabled_mask_allows_everything():
    from dataclasses import replace

    from planning.behaviour import BehaviourConfig
    from planning.rule_planner import RulePlannerConfig

    config = BehaviourConfig(planner=replace(RulePlannerConfig(), safety_mask=SafetyMaskConfig(enabled=False)))
    world = make_world(LANES, (100.0, -4.0, 25.0), [make_track(1, 95.0, 0.0, 25.0)], MIDDLE)
    assert BehaviourPlanner(config).action_mask(world).all()


def test_gap_measures_bumper_distances_and_closing_speeds_along_the_lane():
    pts = np.array([[0.0, 0.0], [500.0, 0.0]])
    ego = np.array([100.0, 0.0, 0.0, 20.0, 5.0])  # x, y, yaw, speed, length
    tracks = np.array([[140.0, 0.5, 15.0, 0.0, 0.0, 5.0, 2.0], [70.0, -0.5, 26.0, 0.0, 0.0, 5.0, 2.0],
                       [120.0, 6.0, 0.0, 0.0, 0.0, 5.0, 2.0]])  # the third is in another lane
    gap = lane_gap(pts, np.array([0.0, 500.0]), 2.0, ego, tracks)
    assert (gap.front_m, gap.front_closing_mps) == pytest.approx((35.0, 5.0))
    assert (gap.rear_m, gap.rear_closing_mps) == pytest.approx((25.0, 6.0))
    cfg = SafetyMaskConfig(min_ttc_front_s=7.0, min_ttc_rear_s=4.0)
    assert gap_is_safe(gap, cfg)  # 7.0 s and 4.17 s
    assert not gap_is_safe(gap, SafetyMaskConfig(min_ttc_rear_s=4.5))


def test_a_masked_action_is_replaced_by_its_speed_change_in_the_own_lane():
    mask = np.ones(9, bool)
    mask[[3, 4, 5]] = False  # no left
    assert safe_substitute(BEHAVIOURS.index(Behaviour(1, -1)), mask) == BEHAVIOURS.index(Behaviour(0, -1))
    mask[1] = False  # no faster either
    assert safe_substitute(BEHAVIOURS.index(Behaviour(1, 1)), mask) == BEHAVIOURS.index(Behaviour(0, 0))


def test_the_policy_takes_its_best_allowed_action():
    from planning.rl_policy import SHIPPED_POLICY, load_policy

    policy = load_policy(SHIPPED_POLICY)
    rng = np.random.default_rng(0)
    for _ in range(5):
        obs = rng.uniform(-1.0, 1.0, policy.meta.observation.size).astype(np.float32)
        prefs = policy.preferences(obs)
        favourite = policy.act(obs)
        assert favourite == int(np.argmax(prefs))  # the same ranking as SB3's own predict
        mask = np.ones(9, bool)
        mask[favourite] = False
        assert policy.act(obs, mask) == int(np.argsort(prefs)[-2])


def test_the_rl_planner_cannot_change_into_an_occupied_gap_and_counts_the_intervention():
    from planning.rl_policy import SHIPPED_POLICY, LoadedPolicy, RLPlanner

    class AlwaysLeftFaster(LoadedPolicy):
        def act(self, obs, mask=None):
            return BEHAVIOURS.index(Behaviour(1, 1))

    planner = RLPlanner(policy_file=SHIPPED_POLICY)
    planner.policy = AlwaysLeftFaster(planner.policy.meta, planner.policy.model)
    blocked = make_world(LANES, (100.0, -4.0, 25.0), [make_track(1, 95.0, 0.0, 25.0)], MIDDLE)
    planner.plan(blocked)
    assert planner.executor.state.target_lane_id == MIDDLE
    assert planner.last_action == BEHAVIOURS.index(Behaviour(0, 1))  # the speed-up alone is safe
    assert planner.interventions == {"lane": 1, "speed": 0}
    clear = make_world(LANES, (100.0, -4.0, 25.0), [], MIDDLE, stamp=0.5)
    planner.plan(clear)
    assert planner.executor.state.target_lane_id == "a>b>0" and planner.interventions["lane"] == 1
