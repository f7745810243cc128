"""JSON messages <-> the project's types, exactly: floats are written with Python's shortest
round-trip repr, so a decoded value equals the recorded one bit for bit (float32 arrays come back
as float64 of the same value). Camera images are PNG (lossless), so the pixels the detectors see
on replay are the pixels they saw live."""
from __future__ import annotations

import json

import cv2
import numpy as np

from control.types import Command, Trajectory
from fusion.types import EgoState, Lane, LaneMap, Track
from perception.calibration import CameraCalibration, LidarCalibration
from perception.detections import Detections
from perception.frames import BoxLabels
from sim.highway.ground_truth import VehicleSnapshot
from sim.logs.types import GroundTruthObjects

PNG_LEVEL = 1
"""zlib level of the PNG encoder: fastest; images are a small share of the file next to the lidar."""


def dumps(payload: dict) -> bytes:
    return json.dumps(payload, allow_nan=True, separators=(",", ":")).encode()


def loads(data: bytes) -> dict:
    out = json.loads(data)
    if not isinstance(out, dict):
        raise ValueError("message is not a JSON object")
    return out


def _arr(rows, width: int | None = None, dtype=float) -> np.ndarray:
    a = np.asarray(rows, dtype=dtype)
    return a.reshape(-1, width) if width is not None else a.reshape(-1)


def encode_png(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL])
    if not ok:
        raise ValueError("PNG encoding failed")
    return buf.tobytes()


def decode_png(data: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("image does not decode")
    return np.ascontiguousarray(img[..., ::-1])


def camera_calibration_json(cal: CameraCalibration) -> dict:
    return {"name": cal.name, "K": cal.K.ravel().tolist(), "width_px": int(cal.width_px),
            "height_px": int(cal.height_px), "T_ego_from_sensor": cal.T_ego_from_sensor.ravel().tolist()}


def camera_calibration_from(d: dict) -> CameraCalibration:
    return CameraCalibration(d["name"], _arr(d["K"], 3), int(d["width_px"]), int(d["height_px"]),
                             _arr(d["T_ego_from_sensor"], 4))


def lidar_calibration_json(cal: LidarCalibration) -> dict:
    return {"name": cal.name, "n_beams": int(cal.n_beams), "vfov_deg": [float(v) for v in cal.vfov_deg],
            "azimuth_resolution_deg": float(cal.azimuth_resolution_deg), "max_range_m": float(cal.max_range_m),
            "T_ego_from_sensor": cal.T_ego_from_sensor.ravel().tolist()}


def lidar_calibration_from(d: dict) -> LidarCalibration:
    return LidarCalibration(d["name"], int(d["n_beams"]), (float(d["vfov_deg"][0]), float(d["vfov_deg"][1])),
                            float(d["azimuth_resolution_deg"]), float(d["max_range_m"]), _arr(d["T_ego_from_sensor"], 4))


def labels_json(labels: BoxLabels | None) -> dict | None:
    if labels is None:
        return None
    return {"track_id": np.asarray(labels.track_id).tolist(), "center_m": np.asarray(labels.center_m).tolist(),
            "size_m": np.asarray(labels.size_m).tolist(), "yaw_rad": np.asarray(labels.yaw_rad).tolist(),
            "velocity_mps": np.asarray(labels.velocity_mps).tolist(),
            "lidar_points": np.asarray(labels.lidar_points).tolist(),
            "visible_fraction": np.asarray(labels.visible_fraction).tolist()}


def labels_from(d: dict | None) -> BoxLabels | None:
    if d is None:
        return None
    n = len(d["track_id"])
    vis = np.asarray(d["visible_fraction"], float)
    return BoxLabels(_arr(d["track_id"], dtype=np.int64), _arr(d["center_m"], 3), _arr(d["size_m"], 3),
                     _arr(d["yaw_rad"]), _arr(d["velocity_mps"], 2), _arr(d["lidar_points"], dtype=np.int64),
                     vis.reshape(n, -1) if vis.size else np.zeros((n, 0)))


def ego_json(ego: EgoState, lane_id: str | None) -> dict:
    return {**{k: float(getattr(ego, k)) for k in _EGO_FIELDS}, "lane_id": lane_id}


_EGO_FIELDS = ("stamp", "x_m", "y_m", "yaw_rad", "speed_mps", "accel_mps2", "yaw_rate_radps", "steering_rad",
               "length_m", "width_m")


def ego_from(d: dict) -> tuple[EgoState, str | None]:
    return EgoState(**{k: float(d[k]) for k in _EGO_FIELDS}), d.get("lane_id")


def ground_truth_json(gt: GroundTruthObjects) -> dict:
    e = gt.ego
    ego = {"x_m": e.x_m, "y_m": e.y_m, "yaw_rad": e.yaw_rad, "speed_mps": e.speed_mps, "length_m": e.length_m,
           "width_m": e.width_m, "lane_id": e.lane_id, "lane_offset_m": e.lane_offset_m}
    keys = ("x_m", "y_m", "vx_mps", "vy_mps", "yaw_rad", "length_m", "width_m")
    objects = [{"id": int(i), **dict(zip(keys, row))} for i, row in zip(gt.ids, gt.objects.tolist())]
    return {"stamp": float(gt.stamp), "ego": ego, "objects": objects}


def ground_truth_from(d: dict) -> GroundTruthObjects:
    e = d["ego"]
    ego = VehicleSnapshot(float(e["x_m"]), float(e["y_m"]), float(e["yaw_rad"]), float(e["speed_mps"]),
                          float(e["length_m"]), float(e["width_m"]), e["lane_id"], float(e["lane_offset_m"]))
    keys = ("x_m", "y_m", "vx_mps", "vy_mps", "yaw_rad", "length_m", "width_m")
    objs = d["objects"]
    return GroundTruthObjects(float(d["stamp"]), ego, _arr([o["id"] for o in objs], dtype=np.int64),
                              _arr([[o[k] for k in keys] for o in objs], 7))


def detections_json(stamp: float, batches: tuple[Detections, ...]) -> dict:
    return {"stamp": float(stamp), "batches": [
        {"source": b.source, "stamp": float(b.stamp), "center_m": np.asarray(b.center_m).tolist(),
         "size_m": np.asarray(b.size_m).tolist(), "yaw_rad": np.asarray(b.yaw_rad).tolist(),
         "score": np.asarray(b.score).tolist(), "covariance_m2": np.asarray(b.covariance_m2).reshape(-1, 4).tolist()}
        for b in batches]}


def detections_from(d: dict) -> tuple[Detections, ...]:
    return tuple(Detections(float(b["stamp"]), b["source"], _arr(b["center_m"], 3), _arr(b["size_m"], 3),
                            _arr(b["yaw_rad"]), _arr(b["score"]), _arr(b["covariance_m2"], 4).reshape(-1, 2, 2))
                 for b in d["batches"])


_TRACK_FIELDS = ("x_m", "y_m", "vx_mps", "vy_mps", "yaw_rad", "length_m", "width_m")


def tracks_json(stamp: float, source: str, tracks: tuple[Track, ...]) -> dict:
    return {"stamp": float(stamp), "source": source, "tracks": [
        {"track_id": int(t.track_id), **{k: float(getattr(t, k)) for k in _TRACK_FIELDS},
         "covariance": np.asarray(t.covariance).ravel().tolist(), "lane_id": t.lane_id,
         "lane_offset_m": float(t.lane_offset_m), "status": t.status,
         "existence_prob": float(t.existence_prob)} for t in tracks]}


def tracks_from(d: dict) -> tuple[str, tuple[Track, ...]]:
    return d["source"], tuple(Track(int(t["track_id"]), *(float(t[k]) for k in _TRACK_FIELDS), _arr(t["covariance"], 4),
                                    t["lane_id"], float(t["lane_offset_m"]), t["status"],
                                    float(t.get("existence_prob", 1.0))) for t in d["tracks"])


def trajectory_json(stamp: float, planner: str, traj: Trajectory) -> dict:
    return {"stamp": float(stamp), "planner": planner, "t_s": np.asarray(traj.t_s).tolist(),
            "xy_m": np.asarray(traj.xy_m).tolist(), "yaw_rad": np.asarray(traj.yaw_rad).tolist(),
            "speed_mps": np.asarray(traj.speed_mps).tolist()}


def trajectory_from(d: dict) -> tuple[str, Trajectory]:
    return d["planner"], Trajectory(_arr(d["t_s"]), _arr(d["xy_m"], 2), _arr(d["yaw_rad"]), _arr(d["speed_mps"]))


def command_json(cmd: Command) -> dict:
    return {"stamp": float(cmd.stamp), "accel_mps2": float(cmd.accel_mps2), "steering_rad": float(cmd.steering_rad)}


def command_from(d: dict) -> Command:
    return Command(float(d["stamp"]), float(d["accel_mps2"]), float(d["steering_rad"]))


def diagnostics_json(stamp: float, statuses) -> dict:
    """``sim.diagnostics.DiagnosticStatus``es of a tick."""
    return {"stamp": float(stamp), "statuses": [
        {"module": d.module, "level": int(d.level), "level_name": d.level.name, "message": d.message,
         "values": {k: float(v) for k, v in d.values}} for d in statuses]}


def lane_map_json(lane_map: LaneMap, route_nodes: tuple[str, ...]) -> dict:
    """The episode's lane graph and the ego's route (the ``lane_map.json`` attachment)."""
    return {"route_nodes": list(route_nodes), "lanes": [
        {"lane_id": l.lane_id, "from_node": l.from_node, "to_node": l.to_node,
         "centerline_m": np.asarray(l.centerline_m).tolist(), "s_m": np.asarray(l.s_m).tolist(),
         "width_m": float(l.width_m), "speed_limit_mps": float(l.speed_limit_mps), "left_id": l.left_id,
         "right_id": l.right_id, "successor_ids": list(l.successor_ids)} for l in lane_map.lanes.values()]}


def lane_map_from(d: dict) -> tuple[LaneMap, tuple[str, ...]]:
    lanes = {l["lane_id"]: Lane(l["lane_id"], l["from_node"], l["to_node"], _arr(l["centerline_m"], 2), _arr(l["s_m"]),
                                float(l["width_m"]), float(l["speed_limit_mps"]), l["left_id"], l["right_id"],
                                tuple(l["successor_ids"])) for l in d["lanes"]}
    return LaneMap(lanes), tuple(d["route_nodes"])
