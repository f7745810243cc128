"""Rule planner, one plan at a time on hand-built maps and its pure helpers with hand-computed
answers: the braking fallback, the proposal grid, which tracks count as crossing (merging: test_rule_planner_merging.py), the
least-bad choice, lateral offsets and speed uncertainty."""
from dataclasses import replace

import numpy as np
import pytest
from conftest import arc_lane_map, make_track, make_world, straight_lane_map

from fusion import EgoState, Lane, LaneMap, WorldModel, arc_length
from planning import RulePlanner
from planning.paths import LaneChain
from planning.rule_planner import (RulePlannerConfig, _comfortable_first, _LaneOption, _lateral_offset, _least_bad,
                                   _speed_std, curve_speed_cap)

LANES = straight_lane_map(3)  # lane 0 leftmost at y=0, lane 1 at y=-4, lane 2 at y=-8


# -- no lane: brake along the heading -------------------------------------------------------------
def test_without_a_lane_it_brakes_to_a_stop_along_its_heading_at_the_comfortable_deceleration():
    ego = EgoState(2.0, 10.0, 5.0, 0.3, 6.0)
    traj = RulePlanner().plan(WorldModel(2.0, ego, (), type(LANES)({}), None))
    n = 21  # 5 s at 0.25 s, both ends
    t = np.arange(n) * 0.25
    assert traj.t_s == pytest.approx(2.0 + t)
    assert traj.speed_mps == pytest.approx(np.maximum(6.0 - 3.0 * t, 0.0))  # stops after 2 s
    travelled = 6.0 ** 2 / (2.0 * 3.0)
    assert traj.xy_m[-1] == pytest.approx([10.0 + travelled * np.cos(0.3), 5.0 + travelled * np.sin(0.3)])
    assert traj.xy_m[4] == pytest.approx([10.0 + 4.5 * np.cos(0.3), 5.0 + 4.5 * np.sin(0.3)])  # 6 x 1 - 3 x 1 / 2
    assert traj.yaw_rad == pytest.approx(np.full(n, 0.3))
    assert traj.xy_m[0] == pytest.approx([10.0, 5.0])  # it starts where the ego is


# -- proposals --------------------------------------------------------------------------------------
def _option(lane_id, limit=20.0, curve=np.inf, gap=np.inf, lead_v=0.0, stop=np.inf):
    xy = np.column_stack([np.arange(0.0, 200.0, 2.0), np.zeros(100)])
    chain = LaneChain((lane_id,), xy, xy[:, 0].copy(), 4.0, limit, True)
    return _LaneOption(lane_id, chain, xy, np.zeros(100), xy[:, 0].copy(), gap, lead_v, curve, stop, xy, np.zeros(100))


def test_proposals_are_speed_factors_of_the_lowest_limit_per_lane_plus_a_yield_and_emergency_copies():
    planner = RulePlanner(RulePlannerConfig(speed_factors=(1.0, 0.5, 0.0), max_speed_mps=18.0))
    own = _option("own", limit=20.0, gap=50.0, lead_v=7.0, stop=30.0)  # a junction 30 m ahead, before the leader
    left = _option("left", limit=25.0, curve=12.0)
    lane, v0, gaps, lead_v, kind, emergency = planner._proposals([own, left])
    assert lane.tolist() == [0, 0, 0, 0, 1, 1, 1, 0, 0, 0]
    assert v0 == pytest.approx([18.0, 9.0, 0.0, 18.0, 12.0, 6.0, 0.0, 18.0, 0.0, 18.0])
    assert gaps == pytest.approx([50.0, 50.0, 50.0, 30.0, np.inf, np.inf, np.inf, 50.0, 50.0, 30.0])
    assert lead_v == pytest.approx([7.0, 7.0, 7.0, 0.0, 0.0, 0.0, 0.0, 7.0, 7.0, 0.0])
    assert kind.tolist() == [0, 1, 2, 3, 0, 1, 2, 100, 102, 103]
    assert emergency.tolist() == [False] * 7 + [True] * 3


def test_an_emergency_copy_never_wins_while_a_comfortable_proposal_is_acceptable():
    # a near-tie from a creep: the emergency stop scored 0.684 against the comfortable stop's 0.683
    emergency = np.array([False, False, True])
    total = np.array([0.0, 0.683, 0.684])
    assert _comfortable_first(total, emergency, np.array([False, True, True])).tolist() == [0.0, 0.683, 0.0]
    # the comfortable stop fails the TTC check (or collides: score 0): the emergency one may win
    assert _comfortable_first(total, emergency, np.array([True, False, True])).tolist() == [0.0, 0.683, 0.684]
    assert _comfortable_first(np.array([0.0, 0.0, 0.5]), emergency, np.ones(3, bool)).tolist() == [0.0, 0.0, 0.5]
    # every proposal fails the TTC check: an emergency copy gains nothing over a comfortable one that does not collide
    assert _comfortable_first(np.array([0.6, 0.643, 0.645]), emergency, np.zeros(3, bool)).tolist() == [0.6, 0.643, 0.0]
    # ... and stays eligible where no comfortable one avoids the collision
    assert _comfortable_first(np.array([0.0, 0.0, 0.645]), emergency, np.zeros(3, bool)).tolist() == [0.0, 0.0, 0.645]


@pytest.mark.parametrize("stop, lead", [(np.inf, 50.0), (60.0, 50.0), (50.0, 50.0), (0.0, 50.0), (-3.0, np.inf)])
def test_no_yield_proposal_without_a_stop_line_before_the_leader(stop, lead):
    planner = RulePlanner(RulePlannerConfig(speed_factors=(1.0, 0.0)))
    kind = planner._proposals([_option("own", gap=lead, stop=stop)])[4]
    assert kind.tolist() == [0, 1, 100, 101]


def test_the_lane_speed_limit_caps_the_proposals_when_it_is_the_lowest():
    planner = RulePlanner(RulePlannerConfig(speed_factors=(1.0, 0.5), max_speed_mps=30.0))
    v0 = planner._proposals([_option("own", limit=14.0, curve=20.0), _option("left", limit=25.0, curve=np.inf)])[1]
    assert v0 == pytest.approx([14.0, 7.0, 25.0, 12.5, 14.0, 7.0])


def test_a_stop_line_half_a_metre_ahead_still_gets_its_yield_proposal():
    planner = RulePlanner(RulePlannerConfig(speed_factors=(1.0, 0.0)))
    lane, _, gaps, lead_v, kind, _ = planner._proposals([_option("own", gap=50.0, stop=0.5)])
    assert kind.tolist() == [0, 1, 2, 100, 101, 102]
    assert gaps[2] == pytest.approx(0.5) and lead_v[2] == 0.0


# -- crossing and merging traffic ---------------------------------------------------------------------
def _tracks(*rows):
    """Track rows [x, y, vx, vy, yaw, length, width] as the planner's tracks_array gives them."""
    return np.array([[x, y, vx, vy, np.arctan2(vy, vx), 5.0, 2.0] for x, y, vx, vy in rows], float)


def test_crossing_means_moving_faster_than_half_a_metre_per_second_across_the_path():
    planner = RulePlanner()
    tracks = _tracks((40.0, 10.0, 0.0, -8.0),    # crosses at right angles
                     (40.0, 10.0, 0.0, -0.4),    # creeping: not moving
                     (40.0, 10.0, 0.0, -0.5),    # exactly half a metre per second: not faster
                     (40.0, -4.0, 10.0, 0.0),    # parallel
                     (40.0, 0.0, -10.0, 0.0),    # oncoming (pi off)
                     (40.0, 0.0, 10.0, 5.0),     # 0.46 rad off: under crossing_heading_rad
                     (40.0, 0.0, 10.0, 6.0))     # 0.54 rad off
    crossing = planner._crossing(_option("own"), tracks)
    assert crossing.tolist() == [True, False, False, False, True, False, True]
    assert planner._crossing(_option("own"), np.zeros((0, 7))).shape == (0,)


# -- lane options -------------------------------------------------------------------------------------
def test_the_own_lane_comes_first_then_left_then_right():
    world = make_world(LANES, (0.0, -4.0, 20.0), [], "a>b>1")
    assert [o.lane_id for o in RulePlanner()._lane_options(world, np.zeros((0, 7)))] == ["a>b>1", "a>b>0", "a>b>2"]


def test_no_lane_change_options_in_a_bend():
    world = make_world(arc_lane_map(30.0), (0.0, 0.0, 10.0), [], "c>d>0")
    assert [o.lane_id for o in RulePlanner()._lane_options(world, np.zeros((0, 7)))] == ["c>d>0"]


def test_no_lane_change_options_in_a_bend_of_a_two_lane_road():
    radius, ang = 30.0, np.linspace(-np.pi / 2, np.pi, 300)
    lanes = {}
    for i, r in enumerate((radius, radius + 4.0)):  # lane 0 inside, lane 1 outside (to the right of a left bend)
        pts = np.stack([r * np.cos(ang), radius + r * np.sin(ang)], axis=1)
        lanes[f"c>d>{i}"] = Lane(f"c>d>{i}", "c", "d", pts, arc_length(pts), 4.0, 15.0,
                                 "c>d>0" if i == 1 else None, "c>d>1" if i == 0 else None)
    world = make_world(LaneMap(lanes), (0.0, 0.0, 10.0), [], "c>d>0")
    assert [o.lane_id for o in RulePlanner()._lane_options(world, np.zeros((0, 7)))] == ["c>d>0"]
    # the same road straight offers the change: the bend is what removes it
    assert [o.lane_id for o in RulePlanner()._lane_options(make_world(straight_lane_map(2), (0.0, 0.0, 10.0), [],
                                                                      "a>b>0"), np.zeros((0, 7)))] == ["a>b>0", "a>b>1"]


def test_the_ego_lane_is_found_on_the_map_when_the_world_does_not_name_it():
    world = make_world(LANES, (0.0, -8.2, 20.0), [], None)
    assert [o.lane_id for o in RulePlanner()._lane_options(world, np.zeros((0, 7)))] == ["a>b>2", "a>b>1"]


# -- the choice -------------------------------------------------------------------------------------
def test_on_a_free_road_it_keeps_its_lane_at_the_speed_limit():
    planner = RulePlanner()
    traj = planner.plan(make_world(LANES, (0.0, -4.0, 25.0), [], "a>b>1"))
    debug = planner.last_debug
    assert debug["lanes"][debug["best"]] == "a>b>1" and debug["v0"][debug["best"]] == pytest.approx(30.0)
    assert np.abs(traj.xy_m[:, 1] + 4.0).max() < 0.05
    assert traj.speed_mps[-1] > 25.0


def test_a_stopped_car_ahead_in_the_own_lane_is_passed_in_the_next_lane():
    planner = RulePlanner()
    world = make_world(straight_lane_map(2), (0.0, 0.0, 20.0), [make_track(1, 45.0, 0.0, 0.0, "a>b>0")], "a>b>0")
    traj = planner.plan(world)
    debug = planner.last_debug
    assert debug["lanes"][debug["best"]] == "a>b>1"
    assert traj.xy_m[-1, 1] == pytest.approx(-4.0, abs=0.3)


@pytest.mark.parametrize("ahead_m, speed, lane", [(100.0, 28.0, "a>b>0"), (120.0, 26.0, "a>b>0"),
                                                   (100.0, 20.0, "a>b>1")])
def test_it_changes_lanes_to_pass_a_clearly_slower_car_but_not_for_a_marginal_gain(ahead_m, speed, lane):
    # At 25 m/s (limit 30) behind a car far ahead: the free lane next to it always offers more progress,
    # but within 2 % (a car at 26-28 m/s, 100-120 m ahead) that is not worth a lane change; 20 m/s is.
    planner = RulePlanner()
    planner.plan(make_world(straight_lane_map(2), (0.0, 0.0, 25.0), [make_track(1, ahead_m, 0.0, speed, "a>b>0")],
                            "a>b>0"))
    debug = planner.last_debug
    lanes, progress = np.array(debug["lanes"]), debug["terms"]["progress"]
    assert progress[lanes == "a>b>1"].max() > progress[lanes == "a>b>0"].max()  # the other lane is faster
    assert debug["lanes"][debug["best"]] == lane


def test_tracks_beyond_the_consider_range_are_ignored():
    far = make_track(1, 40.0, 0.0, 0.0, "a>b>0")
    planner = RulePlanner(RulePlannerConfig(consider_range_m=30.0))
    planner.plan(make_world(straight_lane_map(1), (0.0, 0.0, 20.0), [far], "a>b>0"))
    debug = planner.last_debug
    assert debug["v0"][debug["best"]] == pytest.approx(30.0) and (debug["scores"] > 0.0).any()


def test_when_every_proposal_collides_it_takes_the_latest_collision_then_the_slowest():
    terms = {"collision_time_s": np.array([2.0, 2.5, 2.5, 0.5])}
    assert _least_bad(terms, np.array([5.0, 20.0, 10.0, 0.0]), np.zeros(4, bool), np.inf) == 2
    assert _least_bad({"collision_time_s": np.array([3.0, 1.0])}, np.array([9.0, 0.0]), np.zeros(2, bool), np.inf) == 0


def test_an_emergency_profile_is_the_least_bad_only_for_a_conflict_nearer_than_the_calm_time():
    terms, v0 = {"collision_time_s": np.array([3.5, 3.0, 5.0])}, np.array([10.0, 0.0, 0.0])
    emergency = np.array([False, False, True])
    assert _least_bad(terms, v0, emergency, calm_s=3.0) == 0          # a comfortable one collides only after 3 s
    assert _least_bad(terms, v0, emergency, calm_s=4.0) == 2          # none that late: the emergency stop
    assert _least_bad(terms, v0, np.zeros(3, bool), np.inf) == 2      # no emergency flags: latest collision


def test_a_car_stopped_across_every_lane_gives_the_least_bad_slow_plan():
    wall = [make_track(i + 1, 12.0, -4.0 * i, 0.0, f"a>b>{i}") for i in range(2)]
    planner = RulePlanner()
    traj = planner.plan(make_world(straight_lane_map(2), (0.0, 0.0, 20.0), wall, "a>b>0"))
    assert planner.last_debug["scores"].max() <= 0.0
    assert traj.speed_mps[-1] < 5.0


# -- pure helpers -----------------------------------------------------------------------------------
def test_lateral_offset_is_the_distance_from_the_nearest_segments_line():
    path = np.array([[[0.0, 0.0], [2.0, 0.0], [4.0, 0.0], [4.0, 2.0], [4.0, 4.0]]])
    points = np.array([[[1.0, 0.5], [2.0, -1.5], [4.5, 3.0], [3.0, 4.0], [4.3, 5.0]]])
    np.testing.assert_allclose(_lateral_offset(points, path), [[0.5, 1.5, 0.5, 1.0, 0.3]])


def test_lateral_offset_from_a_diagonal_path_on_either_side():
    path = np.array([[[k, k] for k in range(11)]], float)     # along y = x
    points = np.array([[[5.0, 3.0], [2.0, 4.0], [7.5, 7.5]]])
    np.testing.assert_allclose(_lateral_offset(points, path), [[2.0 / np.sqrt(2.0), np.sqrt(2.0), 0.0]], atol=1e-12)


def test_speed_std_is_the_larger_axis_of_each_kept_tracks_velocity_covariance():
    a = replace(make_track(1, 10.0, 0.0, 5.0), covariance=np.diag([0.1, 0.1, 4.0, 1.0]))
    b = replace(make_track(2, 20.0, 0.0, 5.0), covariance=np.array(
        [[0.1, 0, 0, 0], [0, 0.1, 0, 0], [0, 0, 2.0, 1.0], [0, 0, 1.0, 2.0]]))
    world = make_world(LANES, (0.0, 0.0, 10.0), [a, b, a], "a>b>0")
    assert _speed_std(world, np.array([True, True, False])) == pytest.approx([2.0, np.sqrt(3.0)])
    assert _speed_std(world, np.zeros(3, bool)).shape == (0,)


def test_curve_speed_cap_on_a_circle_and_braking_distance_to_it():
    # Straight for 50 m, then a 25 m radius, sampled every 0.5 m: curvature (smoothed over three samples)
    # is 1/25 from the segment at 50.5 m on, where the cap is sqrt(4 x 25 + 2 x 3 x 50.5); earlier
    # segments see a part of the bend and allow more.
    s = np.arange(0.0, 100.0, 0.5)
    yaw = np.where(s < 50.0, 0.0, (s - 50.0) / 25.0)
    assert curve_speed_cap(yaw, s, 4.0, 3.0) == pytest.approx(np.sqrt(4.0 * 25.0 + 2.0 * 3.0 * 50.5))


# -- lane options: path, blend-in, leader ---------------------------------------------------------
def _rotated_lanes(angle: float, n_lanes: int = 2) -> LaneMap:
    """``straight_lane_map`` turned by ``angle`` about the origin (lane 0 through the origin)."""
    c, s = np.cos(angle), np.sin(angle)
    lanes = {}
    for i in range(n_lanes):
        pts = np.array([[-100.0, -4.0 * i], [2000.0, -4.0 * i]]) @ np.array([[c, s], [-s, c]])
        lanes[f"a>b>{i}"] = Lane(f"a>b>{i}", "a", "b", pts, arc_length(pts), 4.0, 30.0,
                                 f"a>b>{i - 1}" if i > 0 else None, f"a>b>{i + 1}" if i < n_lanes - 1 else None)
    return LaneMap(lanes)


def _options(world, tracks=np.zeros((0, 7)), config=RulePlannerConfig()):
    return RulePlanner(config)._lane_options(world, tracks)


def test_paths_reach_horizon_times_max_speed_plus_30_m_at_the_path_spacing():
    world = make_world(LANES, (0.0, -4.0, 20.0), [], "a>b>1")
    own = _options(world)[0]
    assert own.s[-1] == pytest.approx(180.0) and np.diff(own.s) == pytest.approx(np.full(90, 2.0))
    fine = _options(world, config=RulePlannerConfig(path_spacing_m=1.0))[0]
    assert np.diff(fine.s) == pytest.approx(np.full(180, 1.0))


def test_the_own_lane_path_is_its_centre_line_another_lane_blends_in_from_the_ego_over_its_speed_x_2_5_s():
    own, left, _ = _options(make_world(LANES, (0.0, -3.6, 20.0), [], "a>b>1"))  # 0.4 m left of its lane's centre
    assert np.abs(own.xy[:, 1] + 4.0).max() < 1e-9
    assert left.xy[0, 1] == pytest.approx(-3.6)
    at = np.interp([30.0, 52.0], left.xy[:, 0], left.xy[:, 1])
    assert at[0] < -0.1 and at[1] == pytest.approx(0.0, abs=0.01)  # 50 m blend at 20 m/s


@pytest.mark.parametrize("relative, expected", [(0.2, 0.2), (1.0, 0.5), (-1.0, -0.5)])
def test_a_blended_path_starts_along_the_egos_heading_clipped_to_half_a_radian(relative, expected):
    lanes = _rotated_lanes(0.3)
    world = WorldModel(0.0, EgoState(0.0, 0.0, 0.0, 0.3 + relative, 20.0), (), lanes, "a>b>0")
    right = _options(world)[1]
    heading = np.arctan2(*(right.xy[1] - right.xy[0])[::-1]) - 0.3
    assert heading == pytest.approx(expected, abs=0.05)


def _leader_of(*rows, lanes=LANES, lane="a>b>1", y=-4.0):
    world = make_world(lanes, (0.0, y, 20.0), [], lane)
    own = _options(world, np.array(rows, float).reshape(-1, 7))[0]
    return own.lead_gap_m, own.lead_speed_mps


def test_the_leader_gap_is_bumper_to_bumper_and_its_speed_is_along_the_path():
    # rows: x, y, vx, vy, yaw, length, width; the ego is 5 m long, 2 m wide
    assert _leader_of([40.0, -4.0, 10.0, 0.0, 0.0, 4.0, 2.0]) == pytest.approx((35.5, 10.0))
    assert _leader_of([40.0, -2.0, 10.0, 0.0, 0.0, 4.0, 2.0])[0] == pytest.approx(35.5)  # 2 m off: within 2.3 m
    assert _leader_of([40.0, -1.5, 10.0, 0.0, 0.0, 4.0, 2.0])[0] == np.inf               # 2.5 m off: beside
    assert _leader_of([60.0, -4.0, 0.0, 0.0, 0.0, 4.0, 2.0], [40.0, -4.0, 0.3, 0.0, 0.0, 4.0, 2.0]) == \
        pytest.approx((35.5, 0.3))  # the nearer of two
    assert _leader_of([40.0, -4.0, -3.0, 0.0, 0.0, 4.0, 2.0]) == pytest.approx((35.5, 0.0))  # oncoming: 0


def test_the_leader_speed_is_its_velocity_along_a_turned_lane():
    lanes, c, s = _rotated_lanes(0.5), np.cos(0.5), np.sin(0.5)
    row = [40.0 * c, 40.0 * s, 10.0 * c - 2.0 * s, 10.0 * s + 2.0 * c, 0.5, 4.0, 2.0]  # 10 along, 2 across
    assert _leader_of(row, lanes=lanes, lane="a>b>0", y=0.0) == pytest.approx((35.5, 10.0), abs=0.01)


def test_a_car_cutting_in_within_2_s_is_a_leader_from_where_it_is_now():
    # In the next lane now (4 m off), 1.5 m off after 2 s (2.5 m off after 3 s would miss it).
    assert _leader_of([40.0, 0.0, 10.0, -1.25, 0.0, 4.0, 2.0])[0] == pytest.approx(35.5)


def test_a_faster_car_behind_in_the_lane_is_no_leader_even_once_it_has_passed_the_egos_place():
    # 15 m behind at 30 m/s: in 2 s it is 45 m past where it is now, 30 m ahead of the ego's position now;
    # taking it as a leader gave a negative gap and full braking in front of it (a rear-end collision).
    assert _leader_of([-15.0, -4.0, 30.0, 0.0, 0.0, 4.0, 2.0]) == (np.inf, 0.0)
    # the same car merging in from the next lane behind the ego: still no leader
    assert _leader_of([-15.0, 0.0, 30.0, -1.25, 0.0, 4.0, 2.0]) == (np.inf, 0.0)
    # ...while one just ahead of the ego's centre, cutting in, is one (a negative, overlapping gap)
    assert _leader_of([1.0, 0.0, 21.0, -1.25, 0.0, 4.0, 2.0])[0] == pytest.approx(1.0 - 4.5)


def test_a_car_is_a_leader_only_within_the_paths_extent():
    end = 180.0
    assert _leader_of([end - 1.0, -4.0, 0.0, 0.0, 0.0, 4.0, 2.0])[0] == pytest.approx(end - 5.5)
    assert _leader_of([end + 0.2, -4.0, 0.0, 0.0, 0.0, 4.0, 2.0])[0] == np.inf


# -- the ego's lane and the stop line ---------------------------------------------------------------
def test_the_lane_the_world_names_wins_over_the_nearest_one():
    world = make_world(LANES, (0.0, -1.5, 20.0), [], "a>b>1")  # nearer lane 0's centre
    assert _options(world)[0].lane_id == "a>b>1"


def _fork(route, ego_y=0.0):
    """Two lanes from node a, overlapping for 30 m: a>b straight along +x, a>c bending away right."""
    straight = np.array([[0.0, 0.0], [300.0, 0.0]])
    bend = np.array([[0.0, 0.0], [30.0, 0.0], [60.0, -20.0], [300.0, -20.0]])
    lanes = {lid: Lane(lid, "a", lid[2], pts, arc_length(pts), 4.0, 20.0)
             for lid, pts in (("a>b>0", straight), ("a>c>0", bend))}
    return replace(make_world(LaneMap(lanes), (5.0, ego_y, 10.0), [], "a>b>0"), route_nodes=route)


@pytest.mark.parametrize("route, ego_y, expected", [
    (("a", "c"), 0.0, "a>c>0"),          # the route's lane where both overlap
    (("a", "c", "d"), 0.0, "a>c>0"),
    (("x", "a", "c"), 0.0, "a>c>0"),
    (("a", "b"), 0.0, "a>b>0"),          # already on the route
    (("a",), 0.0, "a>b>0"),              # no route
    (("x", "y"), 0.0, "a>b>0"),          # the route does not leave from here
    (("a", "c"), 4.5, "a>b>0"),          # more than a lane width off the route's lane
])
def test_where_lanes_overlap_the_ego_takes_the_one_its_route_follows(route, ego_y, expected):
    assert _options(_fork(route, ego_y))[0].lane_id == expected


def test_the_stop_line_gap_is_bumper_to_the_end_of_a_lane_that_enters_a_junction():
    lanes = {}
    for i in range(2):  # two 300 m lanes, each into a junction lane
        a, b = np.array([[0.0, -4.0 * i], [300.0, -4.0 * i]]), np.array([[300.0, -4.0 * i], [600.0, -4.0 * i]])
        lanes[f"a>b>{i}"] = Lane(f"a>b>{i}", "a", "b", a, arc_length(a), 4.0, 20.0, f"a>b>{i - 1}" if i else None,
                                 None if i else "a>b>1", (f"b>c>{i}",))
        lanes[f"b>c>{i}"] = Lane(f"b>c>{i}", "b", "c", b, arc_length(b), 4.0, 20.0)
    own, right = _options(make_world(LaneMap(lanes), (10.0, 0.0, 10.0), [], "a>b>0"))
    assert own.stop_line_gap_m == pytest.approx(300.0 - 10.0 - 2.5)
    assert right.stop_line_gap_m == np.inf  # only the own lane stops


def test_the_stop_line_gap_of_a_short_lane_before_a_junction():
    from test_gap_acceptance import crossing_map
    world = WorldModel(0.0, EgoState(0.0, 0.0, -100.0, np.pi / 2, 10.0), (), crossing_map(), "s>c>0")
    assert _options(world)[0].stop_line_gap_m == pytest.approx(144.0 - 50.0 - 2.5)  # lane from y = -150 to -6


def test_no_stop_line_on_a_ring_or_at_the_end_of_the_road():
    from test_gap_acceptance import roundabout_map
    ring = roundabout_map()
    world = WorldModel(0.0, EgoState(0.0, 0.0, 0.0, 0.0, 8.0), (), ring, "S>E>0")
    assert _options(world)[0].stop_line_gap_m == np.inf
    assert _options(make_world(LANES, (0.0, 0.0, 10.0), [], "a>b>0"))[0].stop_line_gap_m == np.inf


# -- more choices and helpers -------------------------------------------------------------------------
def test_last_ticks_choice_gets_the_hysteresis_bonus_while_it_scores_above_zero():
    planner = RulePlanner()
    world = make_world(LANES, (0.0, -4.0, 25.0), [], "a>b>1")
    planner.plan(world)
    first = planner.last_debug
    planner.plan(world)
    second = planner.last_debug
    bonus = np.zeros(len(first["scores"]))
    bonus[first["best"]] = 0.02
    assert second["scores"] == pytest.approx(first["scores"] + bonus)


def test_a_lane_change_once_chosen_is_kept_when_the_reason_goes_away():
    planner = RulePlanner()
    blocked = make_world(LANES, (0.0, -4.0, 20.0), [make_track(1, 45.0, -4.0, 0.0, "a>b>1")], "a>b>1")
    planner.plan(blocked)
    chosen = planner.last_debug["lanes"][planner.last_debug["best"]]
    assert chosen != "a>b>1"
    planner.plan(make_world(LANES, (0.0, -4.0, 20.0), [], "a>b>1"))
    assert planner.last_debug["lanes"][planner.last_debug["best"]] == chosen


def test_a_new_lane_map_replaces_the_paths_derived_from_the_old_one():
    planner = RulePlanner()
    planner.plan(make_world(straight_lane_map(1), (0.0, 0.0, 20.0), [], "a>b>0"))
    shifted = straight_lane_map(1)
    lane = shifted.lanes["a>b>0"]
    moved = replace(lane, centerline_m=lane.centerline_m + [0.0, 1.0])
    traj = planner.plan(make_world(type(shifted)({"a>b>0": moved}), (0.0, 0.0, 20.0), [], "a>b>0"))
    assert traj.xy_m[-1, 1] == pytest.approx(1.0, abs=0.05)


def test_nearby_means_strictly_within_the_consider_range_of_the_ego():
    tracks = [make_track(1, 20.0, -8.0, 30.0), make_track(2, 30.0, -8.0, 0.0), make_track(3, 0.0, 10.0, 0.0)]
    planner = RulePlanner(RulePlannerConfig(consider_range_m=25.0))
    world = make_world(LANES, (0.0, -8.0, 20.0), tracks, "a>b>2")
    assert planner._nearby(world).tolist() == [True, False, True]
    exact = make_world(LANES, (0.0, -8.0, 20.0), [make_track(1, 25.0, -8.0, 0.0)], "a>b>2")
    assert planner._nearby(exact).tolist() == [False]


def test_offroad_is_the_distance_beyond_the_half_width_of_the_nearer_of_start_and_target_lanes():
    options = [_option("own"), replace(_option("left"), xy=_option("left").xy + [0.0, 4.0])]
    states = np.zeros((2, 3, 4))
    states[:, :, 1] = [[1.0, 3.0, -3.0], [1.0, 3.0, 7.0]]
    offroad = RulePlanner._offroad(options, np.array([0, 1]), states)
    np.testing.assert_allclose(offroad, [[-1.0, 1.0, 1.0], [-1.0, -1.0, 1.0]])


def test_the_rollouts_start_from_the_egos_acceleration_and_steering():
    planner = RulePlanner()
    world = make_world(LANES, (0.0, -4.0, 20.0), [], "a>b>1")
    braking = replace(world, ego=replace(world.ego, accel_mps2=-3.0, steering_rad=0.05))
    planner.plan(braking)
    rollouts = planner.last_debug["rollouts"]
    jerk_step = planner.config.controller.comfort_jerk_mps3 * 0.25  # comfort jerk x dt
    assert rollouts.accel[:, 0].max() <= -3.0 + jerk_step + 1e-9
    assert rollouts.states.shape[1:] == (21, 4) and rollouts.accel.shape[1] == 20
    assert np.abs(rollouts.states[:, 1, 2]).max() > 0.005  # it is still steering left after 0.25 s
    assert planner.last_debug["terms"]["collision_time_s"].shape == rollouts.accel.shape[:1]


def test_lateral_offset_on_a_finely_sampled_path():
    path = np.column_stack([np.arange(0.0, 3.0, 0.5), np.zeros(6)])[None]
    np.testing.assert_allclose(_lateral_offset(np.array([[[1.2, -0.7]]]), path), [[0.7]])


def test_crossing_is_judged_against_the_paths_own_heading():
    c, s = np.cos(0.3), np.sin(0.3)
    base = _option("own")
    turned = replace(base, xy=base.xy @ np.array([[c, s], [-s, c]]), yaw=np.full(100, 0.3))
    tracks = _tracks((40.0 * c, 40.0 * s, 10.0 * c, 10.0 * s), (40.0 * c, 40.0 * s, 1.0 * s, -1.0 * c))
    assert RulePlanner()._crossing(turned, tracks).tolist() == [False, True]


def test_the_rollouts_start_from_the_wheels_angle_the_ego_has_now():
    # wheels turned left at 20 m/s on a straight lane: they return at the steering-rate limit, so every
    # rollout first turns left before it settles back onto the lane
    world = make_world(LANES, (0.0, -4.0, 20.0), [], "a>b>1")
    world = replace(world, ego=replace(world.ego, steering_rad=0.3))
    planner = RulePlanner()
    planner.plan(world)
    states = planner.last_debug["rollouts"].states
    assert (states[:, 1, 2] > 0.05).all()


def test_a_faster_car_closing_from_behind_in_the_own_lane_does_not_push_the_ego_out_of_it():
    world = make_world(LANES, (0.0, -4.0, 20.0), [make_track(1, -12.0, -4.0, 30.0, "a>b>1")], "a>b>1")
    planner = RulePlanner()
    planner.plan(world)
    assert planner.last_debug["lanes"][planner.last_debug["best"]] == "a>b>1"


def test_against_a_wall_it_takes_the_latest_collision_then_the_slowest_and_gives_no_hysteresis_bonus():
    wall = [make_track(i + 1, 12.0, -4.0 * i, 0.0, f"a>b>{i}") for i in range(2)]
    world = make_world(straight_lane_map(2), (0.0, 0.0, 20.0), wall, "a>b>0")
    planner = RulePlanner()
    for _ in range(2):  # the second plan has a last choice that could get the bonus
        planner.plan(world)
        debug = planner.last_debug
        assert debug["scores"].max() <= 0.0     # a failed gate stays failed, last choice or not
        hit, v0, best = debug["terms"]["collision_time_s"], debug["v0"], debug["best"]
        latest = hit >= hit.max() - 1e-9
        assert hit[best] == pytest.approx(hit.max()) and v0[best] == v0[latest].min()
        assert latest.sum() < len(hit) or v0.min() < v0.max()   # the rule had a real choice to make


def test_far_off_its_own_lane_the_ego_blends_back_in_starting_parallel_when_heading_away():
    # 1 m left of lane 1's centre (more than own_lane_blend_offset_m): no longer the centre line itself
    away, toward = (_options(make_world(LANES, (0.0, -3.0, 20.0), [], "a>b>1", yaw=yaw))[0] for yaw in (0.1, -0.1))
    for own in (away, toward):
        assert own.xy[0, 1] == pytest.approx(-3.0) and own.lane_xy[:, 1] == pytest.approx(np.full(len(own.xy), -4.0))
        assert np.interp(52.0, own.xy[:, 0], own.xy[:, 1]) == pytest.approx(-4.0, abs=0.01)  # 50 m blend at 20 m/s
    assert away.xy[1, 1] == pytest.approx(-3.0, abs=0.02)      # heading away: starts parallel, not farther out
    assert toward.xy[1, 1] < -3.15                              # heading back: keeps its heading (slope -0.1)
