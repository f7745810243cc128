"""Topics of a drivestack log and the JSON schemas of the project's own messages.

Sensor data and everything drawn in Foxglove use Foxglove's well-known protobuf schemas
(``foxglove.CompressedImage``, ``foxglove.PointCloud``, ``foxglove.CameraCalibration``,
``foxglove.FrameTransforms``, ``foxglove.SceneUpdate``). The exact numbers that replay needs
(ego state, labels, detections, tracks, plan, command) are JSON messages described by the JSON
schemas below, stored in the file with schema encoding ``jsonschema``. docs/logs.md documents both.
"""
from __future__ import annotations

import json

FORMAT_VERSION = "1"
"""Bumped when a topic or field changes meaning; replay refuses logs of another major version."""

PROTOBUF, JSON = "protobuf", "json"

TF = "/tf"
SENSOR_FRAME = "/sensors/frame"
EGO = "/ego/state"
GROUND_TRUTH = "/ground_truth/objects"
DETECTIONS = "/perception/detections"
TRACKS = "/fusion/tracks"
TRAJECTORY = "/planning/trajectory"
COMMAND = "/control/command"
DIAGNOSTICS = "/diagnostics"
METRICS = "/metrics"
"""Streamed live only (``simulate --live``): figures of the tick to plot; logs keep the exact data instead."""
MARKERS_GT = "/markers/ground_truth"
MARKERS_DETECTIONS = "/markers/detections"
MARKERS_TRACKS = "/markers/tracks"
MARKERS_PLAN = "/markers/plan"
MARKERS_LANES = "/markers/lanes"
LANE_MAP_ATTACHMENT = "lane_map.json"
RUN_METADATA = "drivestack.run"
END_METADATA = "drivestack.end"
"""Metadata record of a run that did not end normally (``interrupted: true``, ``ticks``)."""
CHANNEL_METADATA = "drivestack.channels"


def image_topic(camera: str) -> str:
    return f"/camera/{camera}/image"


def calibration_topic(camera: str) -> str:
    return f"/camera/{camera}/calibration"


def points_topic(lidar: str) -> str:
    return f"/lidar/{lidar}/points"


def sensor_kind(topic: str) -> str | None:
    """'camera' or 'lidar' for a sensor data topic, else None."""
    if topic.startswith("/camera/") and topic.endswith("/image"):
        return "camera"
    if topic.startswith("/lidar/") and topic.endswith("/points"):
        return "lidar"
    return None


def _num(unit: str = "") -> dict:
    return {"type": "number", "description": unit} if unit else {"type": "number"}


def _array(items: dict, description: str = "") -> dict:
    out = {"type": "array", "items": items}
    if description:
        out["description"] = description
    return out


def _rows(description: str) -> dict:
    return _array(_array(_num()), description)


def _object(properties: dict, description: str, nullable: tuple[str, ...] = ()) -> dict:
    props = {k: ({"anyOf": [v, {"type": "null"}]} if k in nullable else v) for k, v in properties.items()}
    return {"type": "object", "description": description, "properties": props, "required": list(properties)}


_STAMP = _num("time since episode start [s]")
_LANE = {"type": "string"}

_LABELS = _object({
    "track_id": _array({"type": "integer"}, "ground-truth vehicle ids (N)"),
    "center_m": _rows("box centres in the ego frame (N, 3) [m]"),
    "size_m": _rows("length, width, height (N, 3) [m]"),
    "yaw_rad": _array(_num(), "yaw in the ego frame (N) [rad]"),
    "velocity_mps": _rows("velocity over ground in the ego frame (N, 2) [m/s]"),
    "lidar_points": _array({"type": "integer"}, "lidar returns inside each box (N)"),
    "visible_fraction": _rows("visible share of each box per camera (N, n_cameras)"),
}, "perception.frames.BoxLabels: the frame's ground truth (what AP and MOTA are scored against)")

_CAMERA = _object({
    "name": {"type": "string"}, "K": _array(_num(), "3x3 intrinsics, row-major [px]"),
    "width_px": {"type": "integer"}, "height_px": {"type": "integer"},
    "T_ego_from_sensor": _array(_num(), "4x4 transform optical frame -> ego, row-major [m]"),
}, "perception.calibration.CameraCalibration")

_LIDAR = _object({
    "name": {"type": "string"}, "n_beams": {"type": "integer"}, "vfov_deg": _array(_num(), "[low, high] [deg]"),
    "azimuth_resolution_deg": _num("[deg]"), "max_range_m": _num("[m]"),
    "T_ego_from_sensor": _array(_num(), "4x4 transform lidar -> ego, row-major [m]"),
}, "perception.calibration.LidarCalibration")

_EGO = _object({
    "stamp": _STAMP, "x_m": _num("map frame [m]"), "y_m": _num("map frame [m]"), "yaw_rad": _num("[rad]"),
    "speed_mps": _num("[m/s]"), "accel_mps2": _num("[m/s^2]"), "yaw_rate_radps": _num("[rad/s]"),
    "steering_rad": _num("[rad]"), "length_m": _num("[m]"), "width_m": _num("[m]"), "lane_id": _LANE,
}, "fusion.types.EgoState the world model used (odometry, noise included) and its lane", nullable=("lane_id",))

_BATCH = _object({
    "source": {"type": "string"}, "stamp": _STAMP, "center_m": _rows("ego frame (N, 3) [m]"),
    "size_m": _rows("(N, 3) [m]"), "yaw_rad": _array(_num(), "ego frame (N) [rad]"),
    "score": _array(_num(), "(N) in [0, 1]"), "covariance_m2": _rows("centre x, y covariance (N, 2x2) [m^2]"),
}, "perception.detections.Detections of one detector, before the score threshold")

_TRACK = _object({
    "track_id": {"type": "integer"}, "x_m": _num("[m]"), "y_m": _num("[m]"), "vx_mps": _num("[m/s]"),
    "vy_mps": _num("[m/s]"), "yaw_rad": _num("[rad]"), "length_m": _num("[m]"), "width_m": _num("[m]"),
    "covariance": _array(_num(), "4x4 covariance of [x, y, vx, vy], row-major"), "lane_id": _LANE,
    "lane_offset_m": _num("[m], left positive"), "status": {"type": "string"},
    "existence_prob": _num("probability that the track is a real vehicle, in [0, 1]"),
}, "fusion.types.Track in the map frame", nullable=("lane_id",))

_GT_OBJECT = _object({
    "id": {"type": "integer"}, "x_m": _num("[m]"), "y_m": _num("[m]"), "vx_mps": _num("[m/s]"),
    "vy_mps": _num("[m/s]"), "yaw_rad": _num("[rad]"), "length_m": _num("[m]"), "width_m": _num("[m]"),
}, "one vehicle of the simulator, map frame")

JSON_SCHEMAS: dict[str, dict] = {
    "drivestack.SensorFrame": _object({
        "stamp": _STAMP, "frame_stamp": _num("capture time of the delivered frame [s]"),
        "cameras": _array(_CAMERA, "cameras present in the frame; images on /camera/NAME/image"),
        "lidars": _array(_LIDAR, "lidars present in the frame; points on /lidar/NAME/points"),
        "labels": _LABELS,
    }, "what the sensor rig delivered this tick", nullable=("labels",)),
    "drivestack.EgoState": _EGO,
    "drivestack.GroundTruth": _object({
        "stamp": _STAMP, "ego": _object({
            "x_m": _num("[m]"), "y_m": _num("[m]"), "yaw_rad": _num("[rad]"), "speed_mps": _num("[m/s]"),
            "length_m": _num("[m]"), "width_m": _num("[m]"), "lane_id": _LANE, "lane_offset_m": _num("[m]")},
            "true ego state", nullable=("lane_id",)),
        "objects": _array(_GT_OBJECT, "other vehicles within 150 m"),
    }, "the simulator's state at this tick (map frame)"),
    "drivestack.Detections": _object({"stamp": _STAMP, "batches": _array(_BATCH, "one per detector")},
                                     "detector outputs of the tick"),
    "drivestack.Tracks": _object({"stamp": _STAMP, "source": {"type": "string"}, "tracks": _array(_TRACK)},
                                 "the world model's tracks (confirmed and coasting)"),
    "drivestack.Trajectory": _object({
        "stamp": _STAMP, "planner": {"type": "string"}, "t_s": _array(_num(), "absolute stamps (N) [s]"),
        "xy_m": _rows("map frame (N, 2) [m]"), "yaw_rad": _array(_num(), "(N) [rad]"),
        "speed_mps": _array(_num(), "(N) [m/s]"),
    }, "control.types.Trajectory: the plan of this tick"),
    "drivestack.Diagnostics": _object({
        "stamp": _STAMP, "statuses": _array(_object({
            "module": {"type": "string"}, "level": {"type": "integer", "description": "0 OK, 1 WARN, 2 ERROR"},
            "level_name": {"type": "string"}, "message": {"type": "string"},
            "values": {"type": "object", "additionalProperties": _num(), "description": "key figures, unit in the name"},
        }, "one module's status"), "one per module checked this tick"),
    }, "runtime diagnostics of the tick (sim.diagnostics)"),
    "drivestack.Metrics": _object({
        "stamp": _STAMP, "values": {"type": "object", "additionalProperties": _num(),
                                    "description": "figure name (unit in the name) -> value"},
    }, "live figures of the tick: true ego speed and lane offset, command, counts, time per stage [ms]"),
    "drivestack.Command": _object({"stamp": _STAMP, "accel_mps2": _num("[m/s^2]"),
                                   "steering_rad": _num("front-wheel angle, left positive [rad]")},
                                  "control.types.Command sent to the simulator"),
}


def json_schema_bytes(name: str) -> bytes:
    return json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", "title": name,
                       **JSON_SCHEMAS[name]}, sort_keys=True).encode()
