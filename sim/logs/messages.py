"""One tick -> its MCAP messages: (topic, schema name, payload bytes), all stamped with the tick."""
from __future__ import annotations

from typing import Iterator

import numpy as np

from fusion.types import LaneMap
from perception.frames import SensorFrame
from sim.logs import codec, foxglove
from sim.logs import schemas as S
from sim.logs.types import LoggedTick, stamp_to_ns

Message = tuple[str, str, bytes]
"""(topic, schema name, serialized payload)."""

GT_RGBA = (1.0, 0.85, 0.1, 0.35)
DETECTION_RGBA = (0.2, 0.6, 1.0, 0.5)
TRACK_RGBA = (1.0, 0.0, 1.0, 0.5)
PLAN_RGBA = (0.0, 0.8, 0.0, 1.0)
LANE_RGBA = (0.7, 0.7, 0.7, 1.0)

TOPIC_SCHEMAS = {
    S.TF: "foxglove.FrameTransforms", S.SENSOR_FRAME: "drivestack.SensorFrame", S.EGO: "drivestack.EgoState",
    S.GROUND_TRUTH: "drivestack.GroundTruth", S.DETECTIONS: "drivestack.Detections", S.TRACKS: "drivestack.Tracks",
    S.TRAJECTORY: "drivestack.Trajectory", S.COMMAND: "drivestack.Command", S.MARKERS_GT: "foxglove.SceneUpdate",
    S.MARKERS_DETECTIONS: "foxglove.SceneUpdate", S.MARKERS_TRACKS: "foxglove.SceneUpdate",
    S.MARKERS_PLAN: "foxglove.SceneUpdate", S.MARKERS_LANES: "foxglove.SceneUpdate",
}
"""Schema of each fixed topic (sensor topics are per camera / lidar, see ``topic_schemas``)."""


def topic_schemas(cameras: list[str], lidars: list[str], diagnostics: bool = False) -> dict[str, str]:
    """Every topic a log of this rig can hold, with its schema name (``/diagnostics`` too with
    ``diagnostics``)."""
    out = dict(TOPIC_SCHEMAS)
    if diagnostics:
        out[S.DIAGNOSTICS] = "drivestack.Diagnostics"
    for cam in cameras:
        out[S.image_topic(cam)] = "foxglove.CompressedImage"
        out[S.calibration_topic(cam)] = "foxglove.CameraCalibration"
    out.update({S.points_topic(lid): "foxglove.PointCloud" for lid in lidars})
    return out


def tick_messages(tick: LoggedTick) -> Iterator[Message]:
    ns = tick.stamp_ns
    if tick.frame is not None:
        yield from _sensor_messages(tick.stamp, ns, tick.frame)
    if tick.ego is not None:
        e = tick.ego
        transforms = foxglove.frame_transforms(ns, (e.x_m, e.y_m, e.yaw_rad), _mounts(tick.frame))
        yield S.TF, "foxglove.FrameTransforms", transforms.SerializeToString()
        yield S.EGO, "drivestack.EgoState", codec.dumps(codec.ego_json(e, tick.ego_lane_id))
    if tick.ground_truth is not None:
        yield S.GROUND_TRUTH, "drivestack.GroundTruth", codec.dumps(codec.ground_truth_json(tick.ground_truth))
        yield S.MARKERS_GT, "foxglove.SceneUpdate", _gt_markers(ns, tick).SerializeToString()
    if tick.detections is not None:
        yield S.DETECTIONS, "drivestack.Detections", codec.dumps(codec.detections_json(tick.stamp, tick.detections))
        yield S.MARKERS_DETECTIONS, "foxglove.SceneUpdate", _detection_markers(ns, tick).SerializeToString()
    if tick.tracks is not None:
        yield S.TRACKS, "drivestack.Tracks", codec.dumps(codec.tracks_json(tick.stamp, tick.world_source, tick.tracks))
        yield S.MARKERS_TRACKS, "foxglove.SceneUpdate", _track_markers(ns, tick).SerializeToString()
    if tick.trajectory is not None:
        yield S.TRAJECTORY, "drivestack.Trajectory", codec.dumps(codec.trajectory_json(tick.stamp, tick.planner,
                                                                                        tick.trajectory))
        yield S.MARKERS_PLAN, "foxglove.SceneUpdate", foxglove.lines(ns, "plan", "map", [tick.trajectory.xy_m],
                                                                     PLAN_RGBA, 4.0).SerializeToString()
    if tick.command is not None:
        yield S.COMMAND, "drivestack.Command", codec.dumps(codec.command_json(tick.command))


def diagnostics_message(stamp_s: float, statuses) -> Message:
    """The tick's runtime diagnostics (``sim.diagnostics.DiagnosticStatus``es) on ``/diagnostics``."""
    return S.DIAGNOSTICS, "drivestack.Diagnostics", codec.dumps(codec.diagnostics_json(stamp_s, statuses))


def metrics_message(stamp_s: float, values: dict[str, float]) -> Message:
    """Named figures of a tick on ``/metrics`` (streamed live)."""
    payload = {"stamp": float(stamp_s), "values": {k: float(v) for k, v in values.items()}}
    return S.METRICS, "drivestack.Metrics", codec.dumps(payload)


def lane_markers(stamp_s: float, lane_map: LaneMap) -> Message:
    """The lane centre lines, drawn once (Foxglove keeps an entity until it is replaced)."""
    update = foxglove.lines(stamp_to_ns(stamp_s), "lanes", "map", [l.centerline_m for l in lane_map.lanes.values()],
                            LANE_RGBA, 1.0)
    return S.MARKERS_LANES, "foxglove.SceneUpdate", update.SerializeToString()


def _mounts(frame: SensorFrame | None) -> list[tuple[str, np.ndarray]]:
    """(frame id, T_ego_from_sensor) of every sensor in the frame."""
    if frame is None:
        return []
    return [(s.calibration.name, s.calibration.T_ego_from_sensor) for s in (*frame.cameras, *frame.lidars)]


def _sensor_messages(stamp: float, ns: int, frame: SensorFrame) -> Iterator[Message]:
    info = {"stamp": float(stamp), "frame_stamp": float(frame.stamp),
            "cameras": [codec.camera_calibration_json(c.calibration) for c in frame.cameras],
            "lidars": [codec.lidar_calibration_json(l.calibration) for l in frame.lidars],
            "labels": codec.labels_json(frame.labels)}
    yield S.SENSOR_FRAME, "drivestack.SensorFrame", codec.dumps(info)
    capture_ns = stamp_to_ns(frame.stamp)
    for cam in frame.cameras:
        name = cam.calibration.name
        png = codec.encode_png(cam.rgb)
        yield S.image_topic(name), "foxglove.CompressedImage", foxglove.compressed_image(capture_ns, name, png
                                                                                         ).SerializeToString()
        yield S.calibration_topic(name), "foxglove.CameraCalibration", foxglove.camera_calibration(
            capture_ns, cam.calibration).SerializeToString()
    for lid in frame.lidars:
        yield S.points_topic(lid.calibration.name), "foxglove.PointCloud", foxglove.point_cloud(capture_ns, lid
                                                                                                ).SerializeToString()


def _gt_markers(ns: int, tick: LoggedTick):
    gt = tick.ground_truth
    o = gt.objects
    centers = np.column_stack([o[:, 0], o[:, 1], np.full(len(o), 0.8)])
    sizes = np.column_stack([o[:, 5], o[:, 6], np.full(len(o), 1.6)])
    return foxglove.boxes(ns, "ground_truth", "map", centers, sizes, o[:, 4], GT_RGBA)


def _detection_markers(ns: int, tick: LoggedTick):
    batches = [b for b in tick.detections if len(b)]
    if not batches:
        return foxglove.boxes(ns, "detections", "ego", np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0), DETECTION_RGBA)
    center, size, yaw = (np.concatenate([np.asarray(getattr(b, k), float) for b in batches])
                         for k in ("center_m", "size_m", "yaw_rad"))
    labels = [f"{b.source} {s:.2f}" for b in batches for s in b.score]
    return foxglove.boxes(ns, "detections", "ego", center, size, yaw, DETECTION_RGBA, labels)


def _track_markers(ns: int, tick: LoggedTick):
    t = tick.tracks
    centers = np.array([[k.x_m, k.y_m, 0.8] for k in t]).reshape(-1, 3)
    sizes = np.array([[k.length_m, k.width_m, 1.6] for k in t]).reshape(-1, 3)
    return foxglove.boxes(ns, "tracks", "map", centers, sizes, np.array([k.yaw_rad for k in t]), TRACK_RGBA,
                          [f"#{k.track_id}" for k in t])


__all__ = ["Message", "diagnostics_message", "lane_markers", "metrics_message", "tick_messages", "topic_schemas"]
