"""Frame conversion at the highway-env boundary and the lane map built from its road network."""
import numpy as np
import pytest

from control import VehicleParams, bicycle_step
from fusion import locate
from sim.highway.frames import he_to_map_heading, he_to_map_xy, lane_id, map_to_he_heading, map_to_he_xy
from sim.highway.roadmap import build_lane_map
from sim.loop.runner import RunSetup, open_env
from sim.highway.scenarios import load_scenario


def test_frame_conversions_round_trip():
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(20, 2)) * 50
    assert np.allclose(map_to_he_xy(he_to_map_xy(xy)), xy)
    heading = rng.uniform(-np.pi, np.pi, 20)
    assert np.allclose(map_to_he_heading(he_to_map_heading(heading)), heading)
    # highway-env's y points right: a point 4 m to the right is at y = -4 in the map frame
    assert np.allclose(he_to_map_xy(np.array([10.0, 4.0])), [10.0, -4.0])


def _env(name, seed=0):
    env = open_env(RunSetup(load_scenario(name)))
    env.reset(seed=seed)
    return env


def test_highway_lanes_ordered_left_to_right():
    env = _env("highway")
    lanes = build_lane_map(env.unwrapped.road.network).lanes
    assert lanes["0>1>0"].left_id is None and lanes["0>1>0"].right_id == "0>1>1"
    assert lanes["0>1>3"].right_id is None and lanes["0>1>3"].left_id == "0>1>2"
    # lane 1 lies to the right (negative y) of lane 0 in the map frame
    assert lanes["0>1>1"].centerline_m[0, 1] < lanes["0>1>0"].centerline_m[0, 1]
    env.close()


def test_ego_is_located_on_its_highway_env_lane():
    env = _env("highway", seed=3)
    ego = env.unwrapped.vehicle
    lane_map = build_lane_map(env.unwrapped.road.network)
    x, y = he_to_map_xy(ego.position)
    pos = locate(lane_map, x, y)
    assert pos.lane_id == lane_id(ego.lane_index) and pos.in_lane
    env.close()


def test_roundabout_ring_lanes_are_curved_and_placed_on_the_ring():
    env = _env("roundabout")
    lane_map = build_lane_map(env.unwrapped.road.network)
    ring = lane_map.lanes["se>ex>0"]
    radii = np.linalg.norm(ring.centerline_m, axis=1)  # the ring is centred on the origin
    assert len(ring.centerline_m) > 5 and np.ptp(radii) < 0.1
    he_lane = env.unwrapped.road.network.get_lane(("se", "ex", 0))
    mid = he_lane.position(he_lane.length / 2, 0.0)
    assert locate(lane_map, *he_to_map_xy(mid)).lane_id == "se>ex>0"
    assert "ex>ee>0" in ring.successor_ids
    env.close()


@pytest.mark.parametrize("steer_he", [0.0, 0.1, -0.2])
def test_bicycle_model_matches_highway_env_vehicle(steer_he):
    env = _env("highway")
    ego = env.unwrapped.vehicle
    x, y = he_to_map_xy(ego.position)
    state = np.array([[x, y, he_to_map_heading(ego.heading), ego.speed]])
    for _ in range(10):
        ego.act({"acceleration": 1.0, "steering": steer_he})
        ego.step(0.1)
        state = bicycle_step(state, np.array([1.0]), np.array([-steer_he]), 0.1, VehicleParams())
    assert np.allclose(state[0, :2], he_to_map_xy(ego.position), atol=1e-6)
    assert np.isclose(state[0, 2], he_to_map_heading(ego.heading)) and np.isclose(state[0, 3], ego.speed)
    env.close()


@pytest.mark.parametrize("scenario", ["roundabout", "intersection"])
def test_locating_many_points_at_once_places_each_as_locating_it_alone(scenario):
    from fusion.lanes import locate_many
    env = _env(scenario, seed=1)
    lane_map = build_lane_map(env.unwrapped.road.network)
    rng = np.random.default_rng(0)
    on_roads = np.array([he_to_map_xy(v.position) for v in env.unwrapped.road.vehicles])
    points = np.concatenate([on_roads, rng.uniform(-80.0, 80.0, (40, 2))])  # and points off every lane
    assert locate_many(lane_map, points) == [locate(lane_map, x, y) for x, y in points]
    ids = tuple(lane_map.lanes)[:3]  # among a few candidate lanes only
    assert locate_many(lane_map, points, ids) == [locate(lane_map, x, y, ids) for x, y in points]
    assert locate_many(lane_map, np.zeros((0, 2))) == []
    env.close()


def test_a_point_in_line_with_a_lane_but_past_its_end_is_off_that_lane():
    from fusion.lanes import arc_length, project
    from fusion.types import Lane, LaneMap
    far = np.array([[2.0, -100.0], [2.0, -60.0]])  # a straight lane on the line x = 2, ending 60 m short
    near = np.array([[2.0, 40.0], [2.0, 50.0]])    # the lane the point is on
    s, d = project(far, arc_length(far), np.array([[2.0, 45.0]]))
    assert d[0] == pytest.approx(105.0) and s[0] == pytest.approx(40.0)  # its end, 105 m away (the offset's
    lanes = {k: Lane(k, "a", "b", pts, arc_length(pts), 4.0, 20.0) for k, pts in (("far", far), ("near", near))}
    assert locate(LaneMap(lanes), 2.0, 45.0).lane_id == "near"  # sign, and so the offset, read 0 in line)
