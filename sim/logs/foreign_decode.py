"""Messages of logs written by other tools -> the project's arrays: point clouds, images and poses.

Point clouds (``foxglove.PointCloud``, ROS 2 ``sensor_msgs/msg/PointCloud2``) are read through a
numpy structured dtype built from the message's own field table (offsets, types, stride,
endianness), so any field order or padding works without a per-point loop. The result has the
columns of ``LidarFrame.points``: x, y, z [m], intensity, ring (0 where the cloud lacks a field).
Every problem with a message is a ``ValueError`` saying what is wrong with it.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import cv2
import numpy as np
from foxglove_schemas_protobuf.CompressedImage_pb2 import CompressedImage
from foxglove_schemas_protobuf.PointCloud_pb2 import PointCloud
from foxglove_schemas_protobuf.PoseInFrame_pb2 import PoseInFrame
from mcap.records import Schema
from mcap_ros2.decoder import DecoderFactory

OUT_FIELDS = ("x", "y", "z", "intensity", "ring")
"""Columns of the decoded cloud (those of ``LidarFrame.points``)."""

ROS2_DTYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 8: "f8"}
"""sensor_msgs/PointField datatype -> numpy type (INT8 .. FLOAT64)."""
FOXGLOVE_DTYPES = {1: "u1", 2: "i1", 3: "u2", 4: "i2", 5: "u4", 6: "i4", 7: "f4", 8: "f8"}
"""foxglove.PackedElementField.NumericType -> numpy type (UINT8 .. FLOAT64)."""


class LayoutError(ValueError):
    """A cloud whose field table cannot give points (no x/y/z, fields past the stride): every message
    of the topic will fail alike, so replay stops with it instead of skipping message after message."""


class Pose2D(NamedTuple):
    """An ego pose in the map frame: x, y [m], yaw [rad], and the speed [m/s] and yaw rate [rad/s]
    when the message carries them (odometry), else None."""

    x_m: float
    y_m: float
    yaw_rad: float
    speed_mps: float | None = None
    yaw_rate_radps: float | None = None


def structured_points(data: bytes, fields: list[tuple[str, int, str]], stride: int, count: int,
                      big_endian: bool = False) -> np.ndarray:
    """(N, 5) float32 x, y, z, intensity, ring from ``count`` packed records of ``stride`` bytes.

    ``fields`` are (name, byte offset, numpy type); fields other than the five are skipped.
    """
    by_name = {name: (offset, kind) for name, offset, kind in fields}
    missing = [n for n in ("x", "y", "z") if n not in by_name]
    if missing:
        raise LayoutError(f"point cloud has no {'/'.join(missing)} field (fields: {', '.join(by_name) or 'none'})")
    used = [n for n in OUT_FIELDS if n in by_name]
    order = ">" if big_endian else "<"
    for n in used:
        offset, kind = by_name[n]
        if offset + np.dtype(kind).itemsize > stride:
            raise LayoutError(f"point cloud field '{n}' at byte {offset} runs past the {stride}-byte point stride")
    if count * stride > len(data):
        raise ValueError(f"point cloud claims {count} points of {stride} bytes but holds {len(data)} bytes")
    dtype = np.dtype({"names": used, "formats": [order + by_name[n][1] for n in used],
                      "offsets": [by_name[n][0] for n in used], "itemsize": stride})
    records = np.frombuffer(data, dtype, count=count)
    out = np.zeros((count, len(OUT_FIELDS)), np.float32)
    for n in used:
        out[:, OUT_FIELDS.index(n)] = records[n]
    return out


def ros2_points(msg) -> np.ndarray:
    """A decoded ``sensor_msgs/msg/PointCloud2`` -> (N, 5) float32 (rows padded by ``row_step`` are cut)."""
    fields = []
    for f in msg.fields:
        if f.datatype not in ROS2_DTYPES:
            raise ValueError(f"point cloud field '{f.name}' has unknown datatype {f.datatype}")
        fields.append((f.name, int(f.offset), ROS2_DTYPES[f.datatype]))
    step, width, height = int(msg.point_step), int(msg.width), int(msg.height)
    data = bytes(msg.data)
    row = width * step
    if height > 1 and msg.row_step > row:  # padding at the end of each row: drop it
        if msg.row_step * height > len(data):
            raise ValueError(f"point cloud claims {height} rows of {msg.row_step} bytes but holds {len(data)} bytes")
        data = np.frombuffer(data, np.uint8, count=msg.row_step * height).reshape(height, -1)[:, :row].tobytes()
    if step <= 0:
        raise ValueError(f"point cloud point_step is {step}")
    return structured_points(data, fields, step, width * height, bool(msg.is_bigendian))


def foxglove_points(msg: PointCloud) -> np.ndarray:
    """A ``foxglove.PointCloud`` -> (N, 5) float32 in its ``frame_id`` frame (its ``pose`` applied)."""
    fields = []
    for f in msg.fields:
        if f.type not in FOXGLOVE_DTYPES:
            raise ValueError(f"point cloud field '{f.name}' has unknown type {f.type}")
        fields.append((f.name, int(f.offset), FOXGLOVE_DTYPES[f.type]))
    stride = int(msg.point_stride)
    if stride <= 0:
        raise ValueError(f"point cloud point_stride is {stride}")
    pts = structured_points(msg.data, fields, stride, len(msg.data) // stride)
    if msg.HasField("pose"):
        p, q = msg.pose.position, msg.pose.orientation
        R = rotation_from_quaternion(q.x, q.y, q.z, q.w)
        pts[:, :3] = (pts[:, :3].astype(float) @ R.T + [p.x, p.y, p.z]).astype(np.float32)
    return pts


def rotation_from_quaternion(x: float, y: float, z: float, w: float) -> np.ndarray:
    """3x3 rotation of a quaternion (normalised here; all zero reads as the identity, as protobuf defaults do)."""
    n = np.sqrt(x * x + y * y + z * z + w * w)
    if n < 1e-12:
        return np.eye(3)
    x, y, z, w = x / n, y / n, z / n, w / n
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def yaw_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    return float(np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z)))


def image_rgb(data: bytes) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a JPEG or PNG image."""
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("image does not decode as JPEG or PNG")
    return np.ascontiguousarray(img[..., ::-1])


def _pose(p, twist=None) -> Pose2D:
    q = p.orientation
    yaw = yaw_from_quaternion(q.x, q.y, q.z, q.w)
    if twist is None:
        return Pose2D(float(p.position.x), float(p.position.y), yaw)
    return Pose2D(float(p.position.x), float(p.position.y), yaw, float(np.hypot(twist.linear.x, twist.linear.y)),
                  float(twist.angular.z))


KINDS = {"lidar": "points", "camera": "image", "pose": "pose"}
"""Topic-map key -> what its messages decode to."""

PROTOBUF_DECODERS: dict[str, tuple[str, Callable]] = {
    "foxglove.PointCloud": ("points", lambda d: foxglove_points(PointCloud.FromString(d))),
    "foxglove.CompressedImage": ("image", lambda d: image_rgb(CompressedImage.FromString(d).data)),
    "foxglove.PoseInFrame": ("pose", lambda d: _pose(PoseInFrame.FromString(d).pose)),
}
ROS2_DECODERS: dict[str, tuple[str, Callable]] = {
    "sensor_msgs/msg/PointCloud2": ("points", ros2_points),
    "sensor_msgs/msg/CompressedImage": ("image", lambda m: image_rgb(bytes(m.data))),
    "nav_msgs/msg/Odometry": ("pose", lambda m: _pose(m.pose.pose, m.twist.twist)),
    "geometry_msgs/msg/PoseStamped": ("pose", lambda m: _pose(m.pose)),
}


def supported(kind: str) -> list[str]:
    """Schema names a topic-map key accepts."""
    return [name for table in (PROTOBUF_DECODERS, ROS2_DECODERS) for name, (k, _) in table.items() if k == KINDS[kind]]


def decoder(kind: str, schema: str, encoding: str, schema_data: bytes | None) -> Callable[[bytes], object]:
    """bytes -> points / image / Pose2D for a topic of ``schema``; ValueError naming the supported schemas."""
    if schema in PROTOBUF_DECODERS and PROTOBUF_DECODERS[schema][0] == KINDS[kind] and encoding == "protobuf":
        return PROTOBUF_DECODERS[schema][1]
    if schema in ROS2_DECODERS and ROS2_DECODERS[schema][0] == KINDS[kind] and encoding == "cdr":
        if schema_data is None:
            raise ValueError(f"the ROS 2 schema {schema} is not stored in the log: its messages cannot be decoded")
        cdr = DecoderFactory().decoder_for("cdr", Schema(id=0, name=schema, encoding="ros2msg", data=schema_data))
        convert = ROS2_DECODERS[schema][1]
        return lambda d: convert(cdr(d))
    raise ValueError(f"{kind} topic has schema '{schema}' ({encoding or 'no'} encoding); {kind} topics can be "
                     f"{', '.join(supported(kind))}")
