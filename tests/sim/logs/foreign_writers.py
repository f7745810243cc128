"""Writers of foreign logs for the tests: what another tool (a ROS 2 bag converter, a Foxglove SDK user)
would write for the sensor frames of one of our episodes, with the ``mcap`` ROS 2 and protobuf writers."""
from __future__ import annotations

import cv2
import numpy as np
from foxglove_schemas_protobuf.CompressedImage_pb2 import CompressedImage
from foxglove_schemas_protobuf.PackedElementField_pb2 import PackedElementField
from foxglove_schemas_protobuf.PointCloud_pb2 import PointCloud
from foxglove_schemas_protobuf.Pose_pb2 import Pose
from foxglove_schemas_protobuf.Quaternion_pb2 import Quaternion
from foxglove_schemas_protobuf.Vector3_pb2 import Vector3
from google.protobuf.timestamp_pb2 import Timestamp
from mcap_protobuf.writer import Writer as ProtobufWriter
from mcap_ros2.writer import Writer as Ros2Writer

BASE_NS = 1_700_000_000_000_000_000
"""Foreign logs are stamped in UNIX time, not time since episode start."""

SEP = "\n" + "=" * 80 + "\n"
HEADER = "MSG: std_msgs/Header\nbuiltin_interfaces/Time stamp\nstring frame_id" + SEP + \
         "MSG: builtin_interfaces/Time\nint32 sec\nuint32 nanosec"
POINT_CLOUD2 = ("std_msgs/Header header\nuint32 height\nuint32 width\nPointField[] fields\nbool is_bigendian\n"
                "uint32 point_step\nuint32 row_step\nuint8[] data\nbool is_dense" + SEP + HEADER + SEP +
                "MSG: sensor_msgs/PointField\nuint8 INT8=1\nuint8 UINT8=2\nuint8 INT16=3\nuint8 UINT16=4\n"
                "uint8 INT32=5\nuint8 UINT32=6\nuint8 FLOAT32=7\nuint8 FLOAT64=8\n"
                "string name\nuint32 offset\nuint8 datatype\nuint32 count")
COMPRESSED_IMAGE = "std_msgs/Header header\nstring format\nuint8[] data" + SEP + HEADER
_VEC = "float64 x\nfloat64 y\nfloat64 z"
ODOMETRY = ("std_msgs/Header header\nstring child_frame_id\ngeometry_msgs/PoseWithCovariance pose\n"
            "geometry_msgs/TwistWithCovariance twist" + SEP + HEADER + SEP +
            "MSG: geometry_msgs/PoseWithCovariance\nPose pose\nfloat64[36] covariance" + SEP +
            "MSG: geometry_msgs/Pose\nPoint position\nQuaternion orientation" + SEP +
            "MSG: geometry_msgs/Point\n" + _VEC + SEP +
            "MSG: geometry_msgs/Quaternion\nfloat64 x\nfloat64 y\nfloat64 z\nfloat64 w" + SEP +
            "MSG: geometry_msgs/TwistWithCovariance\nTwist twist\nfloat64[36] covariance" + SEP +
            "MSG: geometry_msgs/Twist\nVector3 linear\nVector3 angular" + SEP +
            "MSG: geometry_msgs/Vector3\n" + _VEC)

PADDED = [("x", 0, 7), ("y", 4, 7), ("z", 8, 7), ("intensity", 16, 7), ("ring", 20, 4)]
"""A PointCloud2 layout of many drivers: xyz, 4 bytes of padding, intensity, ring (uint16); 24-byte step."""


def _header(ns: int, frame_id: str) -> dict:
    return {"stamp": {"sec": ns // 1_000_000_000, "nanosec": ns % 1_000_000_000}, "frame_id": frame_id}


def pack(points: np.ndarray, layout=PADDED, step: int = 24, big_endian: bool = False) -> bytes:
    """(N, 5) x, y, z, intensity, ring -> packed records of ``layout`` (name, offset, ROS 2 datatype)."""
    kinds = {2: "u1", 4: "u2", 7: "f4", 8: "f8"}
    order = ">" if big_endian else "<"
    dtype = np.dtype({"names": [n for n, _, _ in layout], "formats": [order + kinds[k] for _, _, k in layout],
                      "offsets": [o for _, o, _ in layout], "itemsize": step})
    rec = np.zeros(len(points), dtype)
    for i, (name, _, _) in enumerate(layout):
        rec[name] = points[:, ("x", "y", "z", "intensity", "ring").index(name)]
    return rec.tobytes()


def point_cloud2(ns: int, points: np.ndarray, layout=PADDED, step: int = 24, big_endian: bool = False) -> dict:
    return {"header": _header(ns, "roof"), "height": 1, "width": len(points),
            "fields": [{"name": n, "offset": o, "datatype": k, "count": 1} for n, o, k in layout],
            "is_bigendian": big_endian, "point_step": step, "row_step": step * len(points),
            "data": pack(points, layout, step, big_endian), "is_dense": True}


def _image(rgb: np.ndarray, ext: str) -> bytes:
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(rgb[..., ::-1]))
    assert ok
    return buf.tobytes()


def odometry(ns: int, ego) -> dict:
    half = ego.yaw_rad / 2.0
    pose = {"position": {"x": ego.x_m, "y": ego.y_m, "z": 0.0},
            "orientation": {"x": 0.0, "y": 0.0, "z": float(np.sin(half)), "w": float(np.cos(half))}}
    twist = {"linear": {"x": ego.speed_mps, "y": 0.0, "z": 0.0}, "angular": {"x": 0.0, "y": 0.0, "z": ego.yaw_rate_radps}}
    return {"header": _header(ns, "map"), "child_frame_id": "base_link", "pose": {"pose": pose, "covariance": [0.0] * 36},
            "twist": {"twist": twist, "covariance": [0.0] * 36}}


def write_ros2(path, ticks, pose: bool = True) -> None:
    """Each tick's lidar sweep, JPEG camera image and (``pose``) ego odometry as ROS 2 messages, the
    camera 8 ms after the lidar (as unsynchronised drivers deliver)."""
    with open(path, "wb") as fh:
        w = Ros2Writer(fh)
        cloud = w.register_msgdef("sensor_msgs/msg/PointCloud2", POINT_CLOUD2)
        image = w.register_msgdef("sensor_msgs/msg/CompressedImage", COMPRESSED_IMAGE)
        odom = w.register_msgdef("nav_msgs/msg/Odometry", ODOMETRY)
        for tick in ticks:
            ns = BASE_NS + tick.stamp_ns
            w.write_message("/points", cloud, point_cloud2(ns, tick.frame.lidars[0].points), log_time=ns)
            cam_ns = ns + 8_000_000
            w.write_message("/image/compressed", image, {"header": _header(cam_ns, "front"), "format": "jpeg",
                            "data": _image(tick.frame.cameras[0].rgb, ".jpg")}, log_time=cam_ns)
            if pose:
                w.write_message("/odom", odom, odometry(ns, tick.ego), log_time=ns)
        w.finish()


def foxglove_cloud(ns: int, points: np.ndarray, stride: int = 32) -> PointCloud:
    """x, y, z, intensity float32 then 16 bytes of other data per point (a ``stride`` > the fields)."""
    rec = np.zeros((len(points), stride // 4), np.float32)
    rec[:, :4] = points[:, :4]
    fields = [PackedElementField(name=n, offset=4 * i, type=PackedElementField.FLOAT32)
              for i, n in enumerate(("x", "y", "z", "intensity"))]
    return PointCloud(timestamp=Timestamp(seconds=ns // 10**9, nanos=ns % 10**9), frame_id="roof",
                      pose=Pose(position=Vector3(), orientation=Quaternion(w=1.0)), point_stride=stride,
                      fields=fields, data=rec.tobytes())


def write_foxglove(path, ticks) -> None:
    """Each tick's lidar sweep (foxglove.PointCloud) and PNG image (foxglove.CompressedImage), no pose."""
    with open(path, "wb") as fh:
        w = ProtobufWriter(fh)
        for tick in ticks:
            ns = BASE_NS + tick.stamp_ns
            w.write_message("/lidar", foxglove_cloud(ns, tick.frame.lidars[0].points), log_time=ns, publish_time=ns)
            img = CompressedImage(timestamp=Timestamp(seconds=ns // 10**9, nanos=ns % 10**9), frame_id="front",
                                  format="png", data=_image(tick.frame.cameras[0].rgb, ".png"))
            w.write_message("/cam", img, log_time=ns, publish_time=ns)
        w.finish()
