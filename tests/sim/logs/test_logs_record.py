"""Recording a closed-loop episode to MCAP: what goes in comes back, the mcap library reads it on its
own, ``log info`` describes it, and ``simulate --record`` writes one."""
import json
import subprocess
import sys

import numpy as np
import pytest

from sim.logs import schemas as S
from sim.logs.codec import lane_map_from, loads
from sim.logs.index import scan
from sim.logs.reader import McapLog
from sim.logs.record import LogRecorder
from sim.logs.ticks import read_ticks
from sim.loop.runner import run_episode
from sim.loop.setup import build_setup

SECONDS = 1.5


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A short perception episode recorded to MCAP, and what the loop handed the recorder each tick."""
    setup = build_setup("highway", "rule", "perception", [f"scenario.duration_s={SECONDS}"])
    path = tmp_path_factory.mktemp("logs") / "run.mcap"
    recorder = LogRecorder(path, setup, seed=4)
    live = []

    def sink(record):
        live.append((record, record.frame, record.detections))
        recorder(record)

    try:
        run_episode(setup, 4, [sink], sensors=True)
    finally:
        recorder.close()
    return path, live


def test_every_tick_reads_back_exactly(recording):
    path, live = recording
    with McapLog(path) as log:
        ticks = list(read_ticks(log))
        assert log.issues == [] and log.finished
        lanes, route = lane_map_from(loads(log.attachments[S.LANE_MAP_ATTACHMENT][1]))
    assert len(ticks) == len(live) == int(SECONDS * 10)
    for tick, (step, frame, dets) in zip(ticks, live, strict=True):
        assert tick.stamp == step.ground_truth.stamp and tick.ego == step.world.ego and tick.ego_lane_id == step.world.ego_lane_id
        assert np.array_equal(tick.frame.cameras[0].rgb, frame.cameras[0].rgb)             # PNG is lossless
        assert np.array_equal(tick.frame.lidars[0].points, frame.lidars[0].points)
        assert np.array_equal(tick.frame.cameras[0].calibration.K, frame.cameras[0].calibration.K)
        assert np.array_equal(tick.frame.labels.center_m, frame.labels.center_m)
        assert np.array_equal(tick.frame.labels.visible_fraction, frame.labels.visible_fraction)
        for got, want in zip(tick.detections, dets, strict=True):
            assert got.source == want.source and np.array_equal(got.score, want.score)
            assert np.array_equal(got.center_m, want.center_m) and np.array_equal(got.covariance_m2, want.covariance_m2)
        assert [t.track_id for t in tick.tracks] == [t.track_id for t in step.world.tracks]
        for got, want in zip(tick.tracks, step.world.tracks, strict=True):
            assert np.array_equal(got.covariance, want.covariance) and got.lane_id == want.lane_id
        assert np.array_equal(tick.trajectory.xy_m, step.trajectory.xy_m) and tick.command == step.command
        assert np.array_equal(tick.ground_truth.objects, step.ground_truth.others_array)
    assert route == live[0][0].world.route_nodes and list(lanes.lanes) == list(live[0][0].world.lane_map.lanes)
    for lane_id, lane in live[0][0].world.lane_map.lanes.items():
        assert np.array_equal(lanes.lanes[lane_id].centerline_m, lane.centerline_m)
        assert lanes.lanes[lane_id].successor_ids == lane.successor_ids


def test_mcap_library_reads_topics_schemas_and_metadata(recording):
    from mcap.reader import make_reader
    from mcap_protobuf.decoder import DecoderFactory

    path, live = recording
    with open(path, "rb") as fh:
        reader = make_reader(fh, decoder_factories=[DecoderFactory()])
        summary = reader.get_summary()
        schemas = {ch.topic: summary.schemas[ch.schema_id].name for ch in summary.channels.values()}
        counts = {ch.topic: summary.statistics.channel_message_counts[cid] for cid, ch in summary.channels.items()}
        expected = {"/camera/front/image": "foxglove.CompressedImage", "/camera/front/calibration":
                    "foxglove.CameraCalibration", "/lidar/roof/points": "foxglove.PointCloud",
                    "/tf": "foxglove.FrameTransforms", "/markers/ground_truth": "foxglove.SceneUpdate",
                    "/markers/tracks": "foxglove.SceneUpdate", "/ego/state": "drivestack.EgoState",
                    "/ground_truth/objects": "drivestack.GroundTruth", "/perception/detections": "drivestack.Detections",
                    "/fusion/tracks": "drivestack.Tracks", "/planning/trajectory": "drivestack.Trajectory",
                    "/control/command": "drivestack.Command", "/sensors/frame": "drivestack.SensorFrame"}
        assert {t: schemas.get(t) for t in expected} == expected
        assert all(counts[t] == len(live) for t in expected)
        _, _, _, cloud = next(reader.iter_decoded_messages(topics=["/lidar/roof/points"]))
        assert [f.name for f in cloud.fields] == ["x", "y", "z", "intensity", "ring"]
        assert len(cloud.data) == cloud.point_stride * len(live[0][1].lidars[0].points)
        _, _, _, tf = next(reader.iter_decoded_messages(topics=["/tf"]))
        assert [(t.parent_frame_id, t.child_frame_id) for t in tf.transforms] == \
            [("map", "ego"), ("ego", "front"), ("ego", "roof")]
        _, channel, message = next(reader.iter_messages(topics=["/fusion/tracks"]))
        assert channel.message_encoding == "json" and "tracks" in json.loads(message.data)
        meta = {m.name: m.metadata for m in reader.iter_metadata()}[S.RUN_METADATA]
        assert json.loads(meta["seed"]) == 4 and json.loads(meta["config"])["scenario"]["name"] == "highway"
        assert len(json.loads(meta["git_commit"])) >= 7
        assert set(json.loads(meta["weights"])) == {"lidar", "camera"}
        assert [a.name for a in reader.iter_attachments()] == [S.LANE_MAP_ATTACHMENT]
        json_schema = next(s for s in summary.schemas.values() if s.name == "drivestack.Tracks")
        assert json_schema.encoding == "jsonschema" and "covariance" in json_schema.data.decode()


def test_log_info_lists_topics_counts_and_metadata(recording, capsys):
    from sim.cli.main import main

    path, live = recording
    assert main(["log", "info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "finished" in out and f"{len(live)} ticks" in out and f"duration {(len(live) - 1) / 10:.2f} s" in out
    line = next(l for l in out.splitlines() if l.startswith("/lidar/roof/points"))
    assert line.split() == ["/lidar/roof/points", "foxglove.PointCloud", "protobuf", str(len(live))]
    assert "git_commit" in out and "seed" in out and "0 damaged" in out and "damage (" not in out


def test_simulate_record_on_ground_truth_records_its_own_sensor_frames(tmp_path):
    log, video = tmp_path / "gt.mcap", tmp_path / "gt.mp4"
    res = subprocess.run([sys.executable, "-m", "sim.cli.main", "simulate", "--world-model", "ground_truth", "--seed", "2",
                          "--set", "scenario.duration_s=1", "--record", str(log), "--video", str(video)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert f"log: {log} (10 ticks, seed 2" in res.stdout and video.stat().st_size > 0
    with McapLog(log) as reader:
        index = scan(reader)
    assert index.topics["/lidar/roof/points"].count == 10 and index.topics["/camera/front/image"].count == 10
    assert S.DETECTIONS not in index.topics                     # nothing was detected in this loop
    assert index.run()["world_model"] == "ground_truth" and index.issues == ()


def test_a_writer_that_never_closes_leaves_every_flushed_chunk_readable(recording, tmp_path):
    """What a killed recorder leaves: with one message per chunk every tick is on disk after its flush."""
    from sim.logs.messages import topic_schemas
    from sim.logs.writer import LogWriter

    path, _ = recording
    with McapLog(path) as log:
        ticks = list(read_ticks(log))
    killed = tmp_path / "killed.mcap"
    writer = LogWriter(killed, {"format_version": "1"}, topic_schemas(["front"], ["roof"]), chunk_size_bytes=1)
    for tick in ticks[:6]:
        writer.write_tick(tick)
    with McapLog(killed) as log:                          # read while the writer is still open
        index = scan(log)
        assert index.ticks == 6 and not index.finished and "did not finish" in index.issues[0]
        again = list(read_ticks(log))
    assert [t.stamp for t in again] == [t.stamp for t in ticks[:6]]
    assert np.array_equal(again[5].frame.lidars[0].points, ticks[5].frame.lidars[0].points)
    writer.close()


def test_json_messages_match_the_schemas_stored_in_the_file(recording):
    from jsonschema import Draft202012Validator
    from mcap.reader import make_reader

    path, _ = recording
    with open(path, "rb") as fh:
        reader = make_reader(fh)
        checked = set()
        for schema, channel, message in reader.iter_messages():
            if channel.message_encoding == "json":
                Draft202012Validator(json.loads(schema.data)).validate(json.loads(message.data))
                checked.add(schema.name)
    assert checked == {"drivestack.SensorFrame", "drivestack.EgoState", "drivestack.GroundTruth",
                       "drivestack.Detections", "drivestack.Tracks", "drivestack.Trajectory", "drivestack.Command"}


@pytest.mark.parametrize("yaw,pitch,optical", [(0.0, 0.035, True), (3.1, 0.3, False), (-2.0, -0.4, True)])
def test_sensor_rotations_become_the_same_quaternion(yaw, pitch, optical):
    from scipy.spatial.transform import Rotation

    from perception.calibration import mount_transform
    from sim.logs.foxglove import quaternion_from_matrix

    R = mount_transform((1.0, 0.0, 1.4), yaw, pitch, optical)[:3, :3]
    q = quaternion_from_matrix(R)
    assert np.allclose(Rotation.from_quat([q.x, q.y, q.z, q.w]).as_matrix(), R, atol=1e-12)


def test_an_interrupted_recording_is_closed_and_marked(tmp_path, capsys):
    from sim.cli.main import main

    setup = build_setup("highway", "rule", "ground_truth", ["scenario.duration_s=3"])
    path = tmp_path / "cut.mcap"
    recorder = LogRecorder(path, setup, seed=2)

    def ctrl_c_at_tick_5(record):
        if record.index == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_episode(setup, 2, [recorder, ctrl_c_at_tick_5], sensors=True)
    recorder.close(interrupted=True)
    assert main(["log", "info", str(path)]) == 1                    # readable, but not a whole run
    out = capsys.readouterr().out
    assert "finished, interrupted" in out and "drivestack.end" in out and "6 ticks" in out
