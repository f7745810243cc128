"""Messages -> ticks: the messages that share a log time are decoded into one ``LoggedTick``.

A message that does not decode is reported (through the log's issues) and left out; a sensor that
the tick's ``/sensors/frame`` lists but whose data the log lacks is named in ``LoggedTick.missing``.
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
from foxglove_schemas_protobuf.CompressedImage_pb2 import CompressedImage
from foxglove_schemas_protobuf.PointCloud_pb2 import PointCloud
from google.protobuf.message import DecodeError

from perception.frames import CameraFrame, LidarFrame, SensorFrame
from sim.logs import codec
from sim.logs import schemas as S
from sim.logs.foxglove import points_from
from sim.logs.reader import DAMAGE, McapLog, RawMessage
from sim.logs.types import LoggedTick

DECODE_ERRORS = DAMAGE + (DecodeError, KeyError, TypeError)
_NO_DEPTH = np.zeros((0, 0), np.float32)
_NO_IDS = np.zeros((0, 0), np.int32)


def read_ticks(log: McapLog) -> Iterator[LoggedTick]:
    """The log's ticks in order; messages of one tick are consecutive (the writer writes tick by tick)."""
    group: list[RawMessage] = []
    for msg in log.messages():
        if group and msg.log_time_ns != group[0].log_time_ns:
            yield assemble(group, log.report)
            group = []
        group.append(msg)
    if group:
        yield assemble(group, log.report)


def assemble(messages: list[RawMessage], report: Callable[[str], None]) -> LoggedTick:
    by_topic = {m.topic: m for m in messages}
    ns = messages[0].log_time_ns

    def decode(topic: str, fn):
        msg = by_topic.get(topic)
        if msg is None:
            return None
        try:
            return fn(msg.data)
        except DECODE_ERRORS as exc:
            report(f"{topic} message at {ns / 1e9:.2f} s does not decode ({type(exc).__name__})")
            return None

    fields: dict = {}
    ego = decode(S.EGO, lambda d: codec.ego_from(codec.loads(d)))
    if ego is not None:
        fields["ego"], fields["ego_lane_id"] = ego
    fields["ground_truth"] = decode(S.GROUND_TRUTH, lambda d: codec.ground_truth_from(codec.loads(d)))
    fields["detections"] = decode(S.DETECTIONS, lambda d: codec.detections_from(codec.loads(d)))
    tracks = decode(S.TRACKS, lambda d: codec.tracks_from(codec.loads(d)))
    if tracks is not None:
        fields["world_source"], fields["tracks"] = tracks
    plan = decode(S.TRAJECTORY, lambda d: codec.trajectory_from(codec.loads(d)))
    if plan is not None:
        fields["planner"], fields["trajectory"] = plan
    fields["command"] = decode(S.COMMAND, lambda d: codec.command_from(codec.loads(d)))
    info = decode(S.SENSOR_FRAME, codec.loads)
    if info is not None:
        frame, missing = _frame(info, decode)
        fields["frame"], fields["missing"] = frame, missing
    stamp = _stamp(info, fields.get("ego"), ns)
    return LoggedTick(stamp, **fields)


def _stamp(info: dict | None, ego, ns: int) -> float:
    if info is not None and isinstance(info.get("stamp"), (int, float)):
        return float(info["stamp"])
    return float(ego.stamp) if ego is not None else ns / 1e9


def _frame(info: dict, decode) -> tuple[SensorFrame | None, tuple[str, ...]]:
    try:
        frame_stamp = float(info["frame_stamp"])
        cams = [codec.camera_calibration_from(c) for c in info["cameras"]]
        lids = [codec.lidar_calibration_from(l) for l in info["lidars"]]
        labels = codec.labels_from(info["labels"])
    except DECODE_ERRORS:
        return None, ("sensor frame",)
    cameras, lidars, missing = [], [], []
    for cal in cams:
        rgb = decode(S.image_topic(cal.name), lambda d: codec.decode_png(CompressedImage.FromString(d).data))
        if rgb is None:
            missing.append(f"camera {cal.name}")
        else:
            cameras.append(CameraFrame(frame_stamp, cal, rgb, _NO_DEPTH, _NO_IDS))
    for cal in lids:
        pts = decode(S.points_topic(cal.name), lambda d: points_from(PointCloud.FromString(d)))
        if pts is None:
            missing.append(f"lidar {cal.name}")
        else:
            lidars.append(LidarFrame(frame_stamp, cal, pts))
    return SensorFrame(frame_stamp, tuple(cameras), tuple(lidars), labels), tuple(missing)
