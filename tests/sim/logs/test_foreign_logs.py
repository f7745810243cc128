"""Foreign logs: MCAP files written by other tools (the ``mcap`` ROS 2 and protobuf writers here, not our
recorder) replay with ``--topics``. The sensor data are our simulator's frames of a real episode, so
the detectors have real cars to find: the ground truth of that episode says where they are."""
import json
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import record_log
from foreign_writers import PADDED, foxglove_cloud, pack, write_foxglove, write_ros2

from sim.cli.main import main
from sim.logs.foreign_config import load_calibration, parse_topics
from sim.logs.foreign_decode import foxglove_points, ros2_points
from sim.logs.foreign_replay import replay_foreign
from sim.logs.reader import McapLog
from sim.logs.replay_config import ReplayOptions
from sim.logs.ticks import read_ticks

ROS2_TOPICS = "lidar=/points,camera=/image/compressed,pose=/odom"
NEAR_M, MATCH_M, MIN_POINTS = 50.0, 2.0, 20
"""Ground-truth cars within NEAR_M with at least MIN_POINTS lidar returns must be detected within MATCH_M."""


@pytest.fixture(scope="module")
def episode(tmp_path_factory):
    """The ticks of a recorded 2 s highway episode (sensor frames with ground truth)."""
    path = record_log(tmp_path_factory.mktemp("foreign") / "run.mcap", "ground_truth", 2, seed=7)
    with McapLog(path) as log:
        return [t for t in read_ticks(log) if t.frame is not None and t.frame.lidars and t.frame.cameras]


@pytest.fixture(scope="module")
def ros2_log(episode, tmp_path_factory):
    path = tmp_path_factory.mktemp("ros2") / "bag.mcap"
    write_ros2(path, episode)
    return path


def _run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _visible(tick) -> np.ndarray:
    """Ego-frame centres (K, 2) of the cars the lidar clearly sees in ``tick``."""
    lab = tick.frame.labels
    keep = (np.hypot(lab.center_m[:, 0], lab.center_m[:, 1]) < NEAR_M) & (lab.lidar_points >= MIN_POINTS)
    return lab.center_m[keep, :2]


def _matches(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each row of ``a`` (K, 2): whether some row of ``b`` lies within MATCH_M."""
    if not len(a) or not len(b):
        return np.zeros(len(a), bool)
    return (np.linalg.norm(a[:, None, :] - np.asarray(b)[None, :, :2], axis=2) < MATCH_M).any(axis=1)


def test_a_ros2_log_replays_with_detections_and_tracks_where_the_cars_are(episode, ros2_log, capsys, tmp_path):
    out_json = tmp_path / "replay.json"
    code, out, err = _run(capsys, "replay", ros2_log, "--topics", ROS2_TOPICS, "--json", out_json)
    assert code == 0, err
    assert "sensor_msgs/msg/PointCloud2" in out and "nav_msgs/msg/Odometry" in out and "20 ticks" in out
    per_tick = json.loads(out_json.read_text())["per_tick"]
    assert len(per_tick) == len(episode) == 20
    seen = found = spurious = 0
    for tick, row in zip(episode, per_tick):
        assert row["stamp"] == pytest.approx(tick.stamp)
        cars, lidar = _visible(tick), np.array(row["detections"]["lidar"]).reshape(-1, 3)
        seen, found = seen + len(cars), found + int(_matches(cars, lidar).sum())
        spurious += int((~_matches(lidar[:, :2], tick.frame.labels.center_m)).sum())
        assert len(row["detections"]["camera"]) > 0        # JPEG images decode and the camera network runs on them
    assert seen >= 20 and found == seen and spurious == 0
    last, gt = per_tick[-1], episode[-1].ground_truth      # tracks are in the map frame: the odometry placed the ego
    gt_xy = gt.objects[np.isin(gt.ids, episode[-1].frame.labels.track_id[
        episode[-1].frame.labels.lidar_points >= MIN_POINTS]), :2]
    assert last["confirmed"] >= 1 and _matches(gt_xy, np.array(last["tracks_xy_m"])).all()


def test_a_foxglove_log_without_pose_replays_with_the_ego_parked(episode, tmp_path):
    path = tmp_path / "fox.mcap"
    write_foxglove(path, episode)
    run = replay_foreign(path, parse_topics("lidar=/lidar,camera=/cam"), None, ReplayOptions(progress=False))
    assert any("ego is parked at the map origin" in n for n in run.summary.notes)
    assert run.result.ticks == 20 and [r.schema for r in run.summary.roles] == ["foxglove.PointCloud",
                                                                               "foxglove.CompressedImage"]
    for tick, out in zip(episode, run.ticks):
        cars = _visible(tick)
        assert _matches(cars, out.detections["lidar"]).all()
    last_cars = _visible(episode[-1])                      # no pose: tracks are in the ego frame
    assert len(last_cars) and _matches(last_cars, run.ticks[-1].tracks_xy_m).all()


def test_log_info_lists_the_mapped_topics_and_what_is_missing(ros2_log, capsys):
    code, out, err = _run(capsys, "log", "info", ros2_log, "--topics", "lidar=/points,camera=/image/compressed")
    assert code == 0, err
    assert "mapped topics (20 ticks, one per lidar message, every 0.100 s" in out
    rows = {l.split()[0]: l.split() for l in out.splitlines() if l.startswith("  ")}
    assert rows["lidar"][1:4] == ["/points", "sensor_msgs/msg/PointCloud2", "20"]
    assert rows["camera"][-1] == "20"                    # the image 8 ms after each sweep joins it
    assert "missing: no pose topic: the ego is parked at the map origin" in out


def _cloud2(points, layout, step, big_endian=False, rows=1, row_pad=0):
    data = pack(points, layout, step, big_endian)
    width = len(points) // rows
    if row_pad:
        data = b"".join(data[r * width * step:(r + 1) * width * step] + b"\xee" * row_pad for r in range(rows))
    fields = [SimpleNamespace(name=n, offset=o, datatype=k) for n, o, k in layout]
    return SimpleNamespace(fields=fields, point_step=step, width=width, height=rows, row_step=width * step + row_pad,
                           is_bigendian=big_endian, data=data)


POINTS = np.array([[1.5, -2.0, 0.25, 0.5, 3], [10.0, 4.0, -1.0, 0.125, 17], [-3.0, 0.0, 2.0, 1.0, 31],
                   [7.0, 7.5, 0.5, 0.0, 0]], np.float32)


def test_pointcloud2_fields_in_any_order_with_padding_and_either_endianness():
    shuffled = [("intensity", 0, 7), ("ring", 4, 4), ("z", 8, 8), ("y", 20, 7), ("x", 28, 7)]  # z float64, gaps
    for big in (False, True):
        np.testing.assert_array_equal(ros2_points(_cloud2(POINTS, shuffled, 36, big)), POINTS)
    np.testing.assert_array_equal(ros2_points(_cloud2(POINTS, PADDED, 24, rows=2, row_pad=5)), POINTS)
    xyz_only = ros2_points(_cloud2(POINTS, PADDED[:3], 12))
    np.testing.assert_array_equal(xyz_only[:, :3], POINTS[:, :3])
    assert not xyz_only[:, 3:].any()                     # no intensity or ring field: zeros


def test_foxglove_pointcloud_with_stride_and_pose():
    msg = foxglove_cloud(0, POINTS, stride=32)
    np.testing.assert_array_equal(foxglove_points(msg)[:, :4], POINTS[:, :4])
    msg.pose.position.x, msg.pose.orientation.z, msg.pose.orientation.w = 2.0, np.sqrt(0.5), np.sqrt(0.5)  # +90 deg yaw
    moved = foxglove_points(msg)
    np.testing.assert_allclose(moved[:, :3], np.column_stack([2.0 - POINTS[:, 1], POINTS[:, 0], POINTS[:, 2]]), atol=1e-5)


def test_calibration_yaml_overrides_the_default_rig(tmp_path):
    default = load_calibration()
    path = tmp_path / "calib.yaml"
    path.write_text("camera:\n  K: [200, 0, 150, 0, 210, 80, 0, 0, 1]\n  mount: {z_m: 2.0}\n"
                    "lidar:\n  name: top\n  mount: {x_m: 1.2}\nsync_tolerance_s: 0.02\n")
    cal = load_calibration(path)
    assert cal.camera.K[0, 0] == 200 and cal.camera.K[1, 2] == 80 and cal.camera.T_ego_from_sensor[2, 3] == 2.0
    assert cal.camera.T_ego_from_sensor[0, 3] == default.camera.T_ego_from_sensor[0, 3]   # unset keys: the rig's
    assert cal.lidar.name == "top" and cal.lidar.T_ego_from_sensor[0, 3] == 1.2 and cal.lidar.T_ego_from_sensor[2, 3] == 1.9
    assert cal.sync_tolerance_s == 0.02
    path.write_text("lidar:\n  mount: {height_m: 2}\n")
    with pytest.raises(ValueError, match="calib.lidar.mount.height_m"):
        load_calibration(path)


def _no_z_log(path):
    import foreign_writers as fw
    from mcap_ros2.writer import Writer

    with open(path, "wb") as fh:
        w = Writer(fh)
        schema = w.register_msgdef("sensor_msgs/msg/PointCloud2", fw.POINT_CLOUD2)
        w.write_message("/points", schema, fw.point_cloud2(fw.BASE_NS, POINTS, PADDED[:2], 8), log_time=fw.BASE_NS)
        w.finish()
    return path


@pytest.mark.parametrize("args, message", [
    (["--topics", "lidar:/points"], "--topics takes ROLE=TOPIC pairs"),
    (["--topics", "radar=/points"], "role 'radar' is unknown; roles: lidar, camera, pose"),
    (["--topics", "pose=/odom"], "--topics needs lidar=TOPIC or camera=TOPIC"),
    (["--topics", "lidar=/velodyne_points"], "has no topic /velodyne_points; its topics: /image/compressed"),
    (["--topics", "camera=/points"], "camera topics can be foxglove.CompressedImage, sensor_msgs/msg/CompressedImage"),
    (["--topics", "lidar=/odom"], "lidar topics can be foxglove.PointCloud, sensor_msgs/msg/PointCloud2"),
    (["--calib", "calib.yaml"], "give its topics with --topics too"),
    (["--topics", ROS2_TOPICS, "--compare"], "--compare cannot be used with a foreign log"),
])
def test_mistakes_are_one_line_errors(ros2_log, capsys, args, message):
    code, out, err = _run(capsys, "replay", ros2_log, *args)
    assert code == 2 and err.startswith("drivestack: error: ") and message in err and len(err.splitlines()) == 1


def test_a_cloud_without_xyz_and_a_camera_of_another_size_are_one_line_errors(ros2_log, tmp_path, capsys):
    code, _, err = _run(capsys, "replay", _no_z_log(tmp_path / "noz.mcap"), "--topics", "lidar=/points")
    last = err.splitlines()[-1]                          # above it: the progress bar
    assert code == 2 and last == "drivestack: error: /points: point cloud has no z field (fields: x, y)"
    calib = tmp_path / "calib.yaml"
    calib.write_text("camera: {width_px: 640, height_px: 480}\n")
    code, _, err = _run(capsys, "replay", ros2_log, "--topics", ROS2_TOPICS, "--calib", calib)
    last = err.splitlines()[-1]
    assert code == 2 and last.startswith("drivestack: error: camera images on /image/compressed are 320x160 px but "
                                         "the calibration") and "says 640x480" in last
