"""Rule planner: which tracks count as merging traffic at a roundabout entry (lanes leading into the
ring ahead, not into the own lane, at most three lanes back), and whole plans that must not change for
a car that is not ring traffic."""
from dataclasses import replace

import numpy as np
import pytest
from conftest import make_track, make_world, straight_lane_map

from fusion import EgoState, LaneMap, WorldModel, interpolate
from planning import RulePlanner

LANES = straight_lane_map(3)  # lane 0 leftmost at y=0, lane 1 at y=-4, lane 2 at y=-8


def _ring_world(lane_ids, route=()):
    from test_gap_acceptance import roundabout_map
    lanes = roundabout_map()
    tracks = tuple(make_track(i + 1, 0.0, 0.0, 0.0, lid) for i, lid in enumerate(lane_ids))
    return replace(make_world(lanes, (-15.0, -60.0, 8.0), tracks, "in>S>0"), route_nodes=route)


def test_merging_traffic_is_on_lanes_that_lead_into_the_ring_ahead_but_not_into_the_own_lane():
    world = _ring_world(["W>S>0", "N>W>0", "E>N>0", "in>S>0", None, "gone"])
    planner = RulePlanner()
    own = planner._lane_options(world, world.tracks_array())[0]
    assert own.chain.lane_ids[:2] == ("in>S>0", "S>E>0")
    merging = planner._merging(world, own, [t.lane_id for t in world.tracks])
    # W>S leads into S>E in one step, N>W in two, E>N in three; the own lane, no lane, an unknown lane: no
    assert merging.tolist() == [True, True, True, False, False, False]
    assert planner._merging(world, own, [t.lane_id for t in world.tracks]).tolist() == merging.tolist()  # cached
    # the order of the tracks does not matter: ones without a usable lane first change nothing for the rest
    lanes = [t.lane_id for t in world.tracks][::-1]
    assert RulePlanner()._merging(world, own, lanes).tolist() == merging.tolist()[::-1]


def _roundabout_with_more_roads() -> LaneMap:
    """The test roundabout plus an approach road into its entry ('app>in>0', up x = -15 to 100 m before
    the ring) and a second entry from the east ('in2>E>0', along y = 25, ending 4 m short of the ring at
    E and leading into E>N)."""
    from test_gap_acceptance import _lane, roundabout_map
    extra = {"app>in>0": _lane("app>in>0", np.array([[-15.0, -300.0], [-15.0, -100.0]]), ("in>S>0",)),
             "in2>E>0": _lane("in2>E>0", np.array([[120.0, 25.0], [29.0, 25.0]]), ("E>N>0",))}
    return LaneMap({**roundabout_map().lanes, **extra})


def test_lanes_into_the_own_lane_or_more_than_three_lanes_before_the_ring_ahead_carry_no_merging_traffic():
    lane_ids = ["W>S>0", "app>in>0", "in2>E>0", "E>N>0"]
    tracks = tuple(make_track(i + 1, 0.0, 0.0, 0.0, lid) for i, lid in enumerate(lane_ids))
    world = make_world(_roundabout_with_more_roads(), (-15.0, -60.0, 8.0), tracks, "in>S>0")
    own = RulePlanner()._lane_options(world, world.tracks_array())[0]
    assert own.chain.lane_ids[:2] == ("in>S>0", "S>E>0")
    # W>S joins S>E next: merging. app>in leads into the ego's own entry first: traffic behind it.
    # in2>E reaches S>E only after four lanes (E>N, N>W, W>S, S>E); E>N within three.
    expected = dict(zip(lane_ids, [True, False, False, True]))
    for order in (lane_ids, lane_ids[::-1], lane_ids[1:] + lane_ids[:1]):
        assert RulePlanner()._merging(world, own, order).tolist() == [expected[lid] for lid in order]


def _entry_world(ego_s, ego_v, tracks):
    lanes = _roundabout_with_more_roads()
    entry = lanes.lanes["in>S>0"]
    xy, yaw = interpolate(entry.centerline_m, entry.s_m, np.array([ego_s]))
    ego = EgoState(0.0, float(xy[0, 0]), float(xy[0, 1]), float(yaw[0]), ego_v)
    return WorldModel(0.0, ego, tuple(tracks), lanes, "in>S>0", ("app", "in", "S", "E", "N"))


def _assert_same_plan(world, reference):
    a, b = RulePlanner().plan(world), RulePlanner().plan(reference)
    np.testing.assert_allclose(a.xy_m, b.xy_m, atol=1e-9)
    np.testing.assert_allclose(a.speed_mps, b.speed_mps, atol=1e-9)


@pytest.mark.parametrize("ring_car", [False, True])
def test_a_faster_car_behind_on_the_road_into_the_entry_is_not_ring_traffic(ring_car):
    # The ego on the roundabout's entry at 6 m/s, a car 25 m behind it on the approach road at 12 m/s:
    # it follows the ego (it reaches the ring only through the ego's lane), so the ego plans exactly as
    # without it, whether or not a ring car elsewhere is judged first.
    from test_gap_acceptance import _track_on_lane
    lanes = _roundabout_with_more_roads()
    ring = [_track_on_lane(3, lanes.lanes["E>N>0"], 5.0, 8.0)] if ring_car else []
    follower = _track_on_lane(1, lanes.lanes["app>in>0"], 195.0, 12.0)
    _assert_same_plan(_entry_world(20.0, 6.0, [*ring, follower]), _entry_world(20.0, 6.0, ring))


@pytest.mark.parametrize("ego_back_m", [2.5, 5.0])
def test_a_car_standing_back_at_the_next_entry_does_not_slow_the_ego_entering_the_ring(ego_back_m):
    # The ego entering the ring at 8 m/s; at the entry at E (four lanes before the ring lane the ego
    # enters, a quarter ring ahead) a car stands 7.5 m short of the ring: it is no merging traffic,
    # and the ego drives on as it would without it.
    from test_gap_acceptance import _track_on_lane
    lanes = _roundabout_with_more_roads()
    ego_s = lanes.lanes["in>S>0"].length_m - ego_back_m
    waiting = _track_on_lane(2, lanes.lanes["in2>E>0"], lanes.lanes["in2>E>0"].length_m - 6.0, 0.0)
    _assert_same_plan(_entry_world(ego_s, 8.0, [waiting]), _entry_world(ego_s, 8.0, []))


def test_no_merging_traffic_on_a_lane_without_successors():
    world = make_world(LANES, (0.0, 0.0, 20.0), [make_track(1, 30.0, -4.0, 20.0, "a>b>1")], "a>b>0")
    planner = RulePlanner()
    own = planner._lane_options(world, world.tracks_array())[0]
    assert planner._merging(world, own, ["a>b>1"]).tolist() == [False]
