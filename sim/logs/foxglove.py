"""Foxglove well-known protobuf messages: camera images, calibrations, point clouds, transforms and
the boxes and lines of ``SceneUpdate`` markers, so Foxglove shows a log as recorded.

Frames: ``map`` (fixed), ``ego`` (the world model's ego pose in ``map``), one frame per camera
(its optical frame: x right, y down, z forward) and per lidar (x forward, y left, z up), each
placed on ``ego`` by its ``T_ego_from_sensor``.
"""
from __future__ import annotations

import numpy as np
from foxglove_schemas_protobuf.CameraCalibration_pb2 import CameraCalibration as PbCameraCalibration
from foxglove_schemas_protobuf.Color_pb2 import Color
from foxglove_schemas_protobuf.CompressedImage_pb2 import CompressedImage
from foxglove_schemas_protobuf.CubePrimitive_pb2 import CubePrimitive
from foxglove_schemas_protobuf.FrameTransform_pb2 import FrameTransform
from foxglove_schemas_protobuf.FrameTransforms_pb2 import FrameTransforms
from foxglove_schemas_protobuf.LinePrimitive_pb2 import LinePrimitive
from foxglove_schemas_protobuf.PackedElementField_pb2 import PackedElementField
from foxglove_schemas_protobuf.Point3_pb2 import Point3
from foxglove_schemas_protobuf.PointCloud_pb2 import PointCloud
from foxglove_schemas_protobuf.Pose_pb2 import Pose
from foxglove_schemas_protobuf.Quaternion_pb2 import Quaternion
from foxglove_schemas_protobuf.SceneEntity_pb2 import SceneEntity
from foxglove_schemas_protobuf.SceneUpdate_pb2 import SceneUpdate
from foxglove_schemas_protobuf.TextPrimitive_pb2 import TextPrimitive
from foxglove_schemas_protobuf.Vector3_pb2 import Vector3
from google.protobuf.timestamp_pb2 import Timestamp

from perception.calibration import CameraCalibration
from perception.frames import LidarFrame

PROTOBUF_TYPES = {cls.DESCRIPTOR.full_name: cls for cls in
                  (CompressedImage, PbCameraCalibration, PointCloud, FrameTransforms, SceneUpdate)}
"""Schema name -> message class of every Foxglove type a log uses."""

POINT_FIELDS = ("x", "y", "z", "intensity", "ring")
"""PointCloud layout: five float32 per point (20-byte stride), the columns of ``LidarFrame.points``."""


def timestamp(stamp_ns: int) -> Timestamp:
    return Timestamp(seconds=stamp_ns // 1_000_000_000, nanos=stamp_ns % 1_000_000_000)


def quaternion_from_matrix(R: np.ndarray) -> Quaternion:
    """Unit quaternion of a 3x3 rotation (largest-component branch, numerically stable)."""
    tr = float(np.trace(R))
    if tr > 0.0:
        s = 2.0 * np.sqrt(tr + 1.0)
        w, x, y, z = 0.25 * s, (R[2, 1] - R[1, 2]) / s, (R[0, 2] - R[2, 0]) / s, (R[1, 0] - R[0, 1]) / s
    else:
        i = int(np.argmax(np.diag(R)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(1.0 + R[i, i] - R[j, j] - R[k, k])
        q = np.zeros(3)
        q[i], q[j], q[k] = 0.25 * s, (R[j, i] + R[i, j]) / s, (R[k, i] + R[i, k]) / s
        w = (R[k, j] - R[j, k]) / s
        x, y, z = q
    return Quaternion(x=float(x), y=float(y), z=float(z), w=float(w))


def _yaw_quaternion(yaw_rad: float) -> Quaternion:
    return Quaternion(x=0.0, y=0.0, z=float(np.sin(yaw_rad / 2.0)), w=float(np.cos(yaw_rad / 2.0)))


def _transform(stamp_ns: int, parent: str, child: str, T: np.ndarray) -> FrameTransform:
    return FrameTransform(timestamp=timestamp(stamp_ns), parent_frame_id=parent, child_frame_id=child,
                          translation=Vector3(x=float(T[0, 3]), y=float(T[1, 3]), z=float(T[2, 3])),
                          rotation=quaternion_from_matrix(T[:3, :3]))


def frame_transforms(stamp_ns: int, ego_pose: tuple[float, float, float], sensors: list[tuple[str, np.ndarray]]
                     ) -> FrameTransforms:
    """map -> ego from the ego pose (x_m, y_m, yaw_rad), and ego -> each (name, T_ego_from_sensor)."""
    x, y, yaw = ego_pose
    T = np.eye(4)
    T[:2, :2] = [[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]]
    T[:2, 3] = x, y
    return FrameTransforms(transforms=[_transform(stamp_ns, "map", "ego", T)] +
                           [_transform(stamp_ns, "ego", name, Ts) for name, Ts in sensors])


def compressed_image(stamp_ns: int, frame_id: str, png: bytes) -> CompressedImage:
    return CompressedImage(timestamp=timestamp(stamp_ns), frame_id=frame_id, data=png, format="png")


def camera_calibration(stamp_ns: int, cal: CameraCalibration) -> PbCameraCalibration:
    P = np.hstack([cal.K, np.zeros((3, 1))])
    return PbCameraCalibration(timestamp=timestamp(stamp_ns), frame_id=cal.name, width=int(cal.width_px),
                               height=int(cal.height_px), distortion_model="plumb_bob", D=[0.0] * 5,
                               K=cal.K.ravel().tolist(), R=np.eye(3).ravel().tolist(), P=P.ravel().tolist())


def point_cloud(stamp_ns: int, lidar: LidarFrame) -> PointCloud:
    pts = np.ascontiguousarray(lidar.points, dtype=np.float32)
    if pts.ndim != 2 or pts.shape[1] != len(POINT_FIELDS):
        raise ValueError(f"lidar '{lidar.calibration.name}' points are {pts.shape}; expected (N, 5)")
    fields = [PackedElementField(name=n, offset=4 * i, type=PackedElementField.FLOAT32)
              for i, n in enumerate(POINT_FIELDS)]
    return PointCloud(timestamp=timestamp(stamp_ns), frame_id=lidar.calibration.name,
                      pose=Pose(position=Vector3(), orientation=Quaternion(w=1.0)), point_stride=4 * len(POINT_FIELDS),
                      fields=fields, data=pts.tobytes())


def points_from(msg: PointCloud) -> np.ndarray:
    """(N, 5) float32 points of a PointCloud written by ``point_cloud``."""
    names = [f.name for f in msg.fields]
    ok = names == list(POINT_FIELDS) and msg.point_stride == 20 and len(msg.data) % 20 == 0
    if not ok or any(f.type != PackedElementField.FLOAT32 or f.offset != 4 * i for i, f in enumerate(msg.fields)):
        raise ValueError(f"point cloud layout {names} / stride {msg.point_stride} is not x, y, z, intensity, ring float32")
    return np.frombuffer(msg.data, np.float32).reshape(-1, 5).copy()


def boxes(stamp_ns: int, entity: str, frame_id: str, centers: np.ndarray, sizes: np.ndarray, yaws: np.ndarray,
          rgba: tuple[float, float, float, float], labels: list[str] | None = None) -> SceneUpdate:
    """One entity of cubes (centre (N, 3) [m], size (N, 3) [m], yaw (N,) [rad]) in ``frame_id``,
    ``labels`` float above each box."""
    color = Color(r=rgba[0], g=rgba[1], b=rgba[2], a=rgba[3])
    cubes = [CubePrimitive(pose=Pose(position=Vector3(x=float(c[0]), y=float(c[1]), z=float(c[2])),
                                     orientation=_yaw_quaternion(float(y))),
                           size=Vector3(x=float(s[0]), y=float(s[1]), z=float(s[2])), color=color)
             for c, s, y in zip(centers, sizes, yaws)]
    texts = [TextPrimitive(pose=Pose(position=Vector3(x=float(c[0]), y=float(c[1]), z=float(c[2] + s[2])),
                                     orientation=Quaternion(w=1.0)), billboard=True, font_size=14.0,
                           scale_invariant=True, color=color, text=t)
             for c, s, t in zip(centers, sizes, labels or [])]
    return _update(stamp_ns, SceneEntity(timestamp=timestamp(stamp_ns), frame_id=frame_id, id=entity, cubes=cubes,
                                         texts=texts))


def lines(stamp_ns: int, entity: str, frame_id: str, polylines: list[np.ndarray],
          rgba: tuple[float, float, float, float], thickness_px: float = 2.0) -> SceneUpdate:
    """One entity of line strips, each (N, 2) [m] on the ground (z = 0) of ``frame_id``."""
    color = Color(r=rgba[0], g=rgba[1], b=rgba[2], a=rgba[3])
    prims = [LinePrimitive(type=LinePrimitive.LINE_STRIP, pose=Pose(position=Vector3(), orientation=Quaternion(w=1.0)),
                           thickness=thickness_px, scale_invariant=True, color=color,
                           points=[Point3(x=float(x), y=float(y), z=0.05) for x, y in pl]) for pl in polylines]
    return _update(stamp_ns, SceneEntity(timestamp=timestamp(stamp_ns), frame_id=frame_id, id=entity, lines=prims))


def _update(stamp_ns: int, entity: SceneEntity) -> SceneUpdate:
    """A topic draws one entity, replaced by id at each update."""
    return SceneUpdate(entities=[entity])
