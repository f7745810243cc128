"""Sensor simulation geometry, visibility labels, noise and faults on hand-built scenes."""
from dataclasses import replace

import numpy as np
import pytest

from conftest import arc_lane_map, straight_lane_map
from sim.highway.ground_truth import GroundTruthFrame, VehicleSnapshot
from sim.sensors.rig import FaultConfig, LidarConfig, Mount, load_rig
from sim.sensors.road_texture import GRASS, MARKING, ROAD, RoadTexture
from sim.sensors.simulator import SensorSimulator


def _snap(x, y, yaw=0.0, speed=20.0):
    return VehicleSnapshot(x, y, yaw, speed, 5.0, 2.0, None, 0.0)


def _gt(others, stamp=0.0, ego=(0.0, 0.0, 0.0)):
    """Ground truth with the ego at ``ego`` (x, y, yaw) and other vehicles at (x, y) map positions."""
    snaps = [_snap(x, y) for x, y in others]
    arr = np.array([[s.x_m, s.y_m, s.speed_mps, 0.0, s.yaw_rad, 5.0, 2.0] for s in snaps]).reshape(-1, 7)
    return GroundTruthFrame(stamp, None, _snap(*ego[:2], yaw=ego[2]), tuple((None, s) for s in snaps), arr,
                            tuple(range(1, len(snaps) + 1)))


def _sim(rig=None, lanes=None, seed=0):
    return SensorSimulator(rig or load_rig(), lanes or straight_lane_map(3), seed)


def test_vehicle_ahead_appears_at_the_image_centre_with_its_id():
    frame = _sim().render(_gt([(25.0, 0.0)]))
    inst = frame.cameras[0].instance_id
    rows, cols = np.nonzero(inst == 1)
    assert len(cols) > 50
    assert abs(cols.mean() - inst.shape[1] / 2) < 3.0           # centred horizontally
    assert frame.labels.visible_fraction[0, 0] > 0.8


def test_depth_of_the_vehicle_rear_face_matches_its_distance():
    frame = _sim().render(_gt([(25.0, 0.0)]))
    cam = frame.cameras[0]
    depth = cam.depth_m[cam.instance_id == 1]
    # rear face at 25 - 2.5 = 22.5 m from the ego centre, camera mounted 1 m ahead of it
    assert np.median(depth) == pytest.approx(21.5, abs=0.1)


def test_lidar_returns_from_a_vehicle_lie_within_the_noise_bound():
    rig = load_rig(overrides=["noise.lidar_range_std_m=0.05"])
    frame = _sim(rig).render(_gt([(20.0, 0.0)]))
    pts = frame.lidars[0].points
    on_car = pts[(np.abs(pts[:, 1]) < 1.0) & (pts[:, 2] > -1.8) & (pts[:, 0] > 10)]  # sensor frame, z up
    assert frame.labels.lidar_points[0] > 20 and len(on_car) > 20
    assert np.all(np.abs(on_car[:, 0] - 17.5) < 4 * 0.05 + 0.05)  # rear face at x = 17.5 m


def test_occluded_vehicle_gets_no_lidar_points_and_low_visibility():
    low_lidar = LidarConfig(mount=Mount(z_m=1.0))  # below the roofs: nothing sees over the first car
    rig = replace(load_rig(), lidars=(low_lidar,))
    frame = _sim(rig).render(_gt([(12.0, 0.0), (22.0, 0.0)]))
    assert frame.labels.lidar_points[0] > 50 and frame.labels.lidar_points[1] == 0
    assert frame.labels.visible_fraction[1, 0] < 0.2 < frame.labels.visible_fraction[0, 0]


def test_curved_lane_is_drawn_where_the_lane_map_puts_it():
    lanes = arc_lane_map(radius_m=30.0)
    tex = RoadTexture(lanes, 0.2, 60.0)
    raster = tex.render(np.zeros(2), 0.0)
    lane = lanes.lanes["c>d>0"]
    on_lane = lane.centerline_m[lane.s_m < 60.0]
    assert np.all(tex.lookup(raster, on_lane[:, 0], on_lane[:, 1]) == ROAD)
    # the circle's centre (30 m to the left) is grass; the outer edge carries a solid marking
    assert tex.lookup(raster, np.array([0.0]), np.array([30.0]))[0] == GRASS
    for a in np.linspace(0.1, 1.0, 10):  # across the outer edge (radius 32 m) at ten places
        r = np.arange(31.4, 32.81, 0.1)
        cls = tex.lookup(raster, r * np.sin(a), 30.0 - r * np.cos(a))
        assert MARKING in cls and cls[0] == ROAD and cls[-1] == GRASS


def test_ego_heading_rotates_the_scene():
    # the ego turned 90 degrees left: a car at map (0, 25) is straight ahead
    frame = _sim().render(_gt([(0.0, 25.0)], ego=(0.0, 0.0, np.pi / 2)))
    cols = np.nonzero(frame.cameras[0].instance_id == 1)[1]
    assert len(cols) > 50 and abs(cols.mean() - 160) < 3.0


def test_blackout_drop_and_latency_faults():
    rig = replace(load_rig(), faults=FaultConfig(camera_blackout_s=(1.0, 2.0)))
    sim = _sim(rig)
    assert len(sim.render(_gt([], stamp=1.5)).cameras) == 0 and len(sim.render(_gt([], stamp=2.5)).cameras) == 1
    dropped = _sim(replace(load_rig(), faults=FaultConfig(drop_probability=1.0))).render(_gt([]))
    assert dropped.cameras == () and dropped.lidars == ()
    late = _sim(replace(load_rig(), faults=FaultConfig(latency_ticks=2)))
    out = [late.step(_gt([], stamp=0.1 * k)) for k in range(4)]
    assert out[0].cameras == () and out[1].cameras == ()
    assert out[2].cameras[0].stamp == 0.0 and out[3].cameras[0].stamp == pytest.approx(0.1)


def test_noise_is_seeded_and_deterministic():
    rig = load_rig(overrides=["noise.lidar_range_std_m=0.1", "noise.lidar_dropout=0.2", "noise.camera_noise_std=5"])
    a, b = _sim(rig, seed=3).render(_gt([(20.0, 0.0)])), _sim(rig, seed=3).render(_gt([(20.0, 0.0)]))
    c = _sim(rig, seed=4).render(_gt([(20.0, 0.0)]))
    assert np.array_equal(a.lidars[0].points, b.lidars[0].points)
    assert np.array_equal(a.cameras[0].rgb, b.cameras[0].rgb)
    assert not np.array_equal(a.lidars[0].points, c.lidars[0].points)


def test_bad_rig_values_are_rejected():
    with pytest.raises(ValueError, match="unknown sensor rig"):
        load_rig("nope")
    with pytest.raises(ValueError, match="camera 'front'"):
        load_rig(overrides=["cameras=[{name: front, width_px: 2}]"])


def test_labels_are_in_the_ego_frame():
    # ego at (100, 50) heading 90 degrees left; a car 20 m ahead of it, driving the same way at 20 m/s
    gt = _gt([(100.0, 70.0)], ego=(100.0, 50.0, np.pi / 2))
    arr = gt.others_array.copy()
    arr[0, 2:5] = [0.0, 20.0, np.pi / 2]
    gt = GroundTruthFrame(gt.stamp, None, gt.ego, gt.others, arr, gt.ids)
    labels = _sim().render(gt).labels
    assert np.allclose(labels.center_m[0], [20.0, 0.0, 0.8], atol=1e-9)
    assert np.isclose(labels.yaw_rad[0], 0.0) and np.allclose(labels.velocity_mps[0], [20.0, 0.0])
    assert np.allclose(labels.size_m[0], [5.0, 2.0, 1.6])
