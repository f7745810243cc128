"""Sensor simulation per tick: scene from ground truth -> camera and lidar frames + labels,
with configurable noise and whole-sensor faults (blackout, dropped frames, latency)."""
from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from fusion.ego_odometry import map_to_ego
from fusion.types import LaneMap
from perception.frames import BoxLabels, CameraFrame, SensorFrame
from sim.highway.ground_truth import GroundTruthFrame
from sim.sensors.render import CameraRenderer, LidarRenderer
from sim.sensors.rig import RigConfig, camera_calibration, lidar_calibration
from sim.sensors.road_texture import RoadTexture
from sim.sensors.scene import SceneVehicles, load_ray_caster

PALETTE = np.array([[0.80, 0.15, 0.15], [0.15, 0.35, 0.80], [0.90, 0.75, 0.10], [0.85, 0.85, 0.85],
                    [0.10, 0.10, 0.10], [0.20, 0.60, 0.30], [0.60, 0.30, 0.70], [0.95, 0.50, 0.10]])


def scene_vehicles(gt: GroundTruthFrame, height_m: float) -> SceneVehicles:
    """The other vehicles of a ground-truth frame in the ego frame."""
    ego = gt.ego
    c, s = np.cos(ego.yaw_rad), np.sin(ego.yaw_rad)
    arr = gt.others_array
    n = len(arr)
    center = np.column_stack([map_to_ego(ego, arr[:, :2]), np.full(n, height_m / 2.0)])
    size = np.column_stack([arr[:, 5], arr[:, 6], np.full(n, height_m)])
    vel_map = arr[:, 2:4]  # over ground; expressed in the ego frame below
    vel = np.column_stack([c * vel_map[:, 0] + s * vel_map[:, 1], -s * vel_map[:, 0] + c * vel_map[:, 1]])
    ids = np.asarray(gt.ids, dtype=np.int64)
    return SceneVehicles(ids, center, size, arr[:, 4] - ego.yaw_rad, vel, PALETTE[ids % len(PALETTE)])


def visible_fractions(vehicles: SceneVehicles, cam: CameraFrame, seen_idx: np.ndarray) -> np.ndarray:
    """Seen pixels of each vehicle over the pixels its unoccluded box would cover (N,)."""
    cal = cam.calibration
    seen = np.bincount(seen_idx[seen_idx >= 0], minlength=len(vehicles)).astype(float)
    out = np.zeros(len(vehicles))
    corners = vehicles.corners()
    mask = np.zeros((cal.height_px, cal.width_px), np.uint8)
    for i in np.flatnonzero(seen > 0):
        uv, z = cal.project(corners[i])
        uv = uv[z > 0.1]
        if len(uv) < 3:
            continue
        mask[:] = 0
        hull = cv2.convexHull(np.clip(uv, -1e4, 1e4).astype(np.float32)).astype(np.int32)
        cv2.fillConvexPoly(mask, hull, 1)
        out[i] = min(1.0, seen[i] / max(float(mask.sum()), seen[i], 1.0))
    return out


class SensorSimulator:
    """Renders the rig for one episode; ``step(gt)`` returns the frame delivered at that tick."""

    def __init__(self, rig: RigConfig, lane_map: LaneMap, seed: int) -> None:
        self.rig = rig
        self.cameras = [CameraRenderer(camera_calibration(c), rig.noise) for c in rig.cameras]
        self.lidars = [LidarRenderer(lidar_calibration(l), rig.noise) for l in rig.lidars]
        self.texture = RoadTexture(lane_map, rig.texture_resolution_m)
        self.rng = np.random.default_rng(seed)
        self._pending: deque[SensorFrame] = deque()
        if self.lidars:
            load_ray_caster()

    def step(self, gt: GroundTruthFrame) -> SensorFrame:
        frame = self.render(gt)
        self._pending.append(frame)
        if len(self._pending) <= self.rig.faults.latency_ticks:
            return SensorFrame(gt.stamp, (), (), None)
        return self._pending.popleft()

    def render(self, gt: GroundTruthFrame) -> SensorFrame:
        """All sensors at this tick (faults applied, no latency)."""
        vehicles = scene_vehicles(gt, self.rig.vehicle_height_m)
        raster = self.texture.render(np.array([gt.ego.x_m, gt.ego.y_m]), gt.ego.yaw_rad)
        cams, cam_seen = [], []
        for r in self.cameras:
            if self._active("camera", gt.stamp):
                frame, seen = r.render(gt.stamp, vehicles, self.texture, raster, self.rng)
                cams.append(frame)
                cam_seen.append(seen)
        lids, lidar_points = [], np.zeros(len(vehicles), np.int64)
        for r in self.lidars:
            if self._active("lidar", gt.stamp):
                frame, idx = r.render(gt.stamp, vehicles, self.texture, raster, self.rng)
                lids.append(frame)
                lidar_points += np.bincount(idx[idx >= 0], minlength=len(vehicles))
        vis = np.stack([visible_fractions(vehicles, c, s) for c, s in zip(cams, cam_seen)], axis=1) \
            if cams else np.zeros((len(vehicles), 0))
        labels = BoxLabels(vehicles.track_id, vehicles.center_m, vehicles.size_m, vehicles.yaw_rad,
                           vehicles.velocity_mps, lidar_points, vis)
        return SensorFrame(gt.stamp, tuple(cams), tuple(lids), labels)

    def _active(self, kind: str, stamp: float) -> bool:
        faults = self.rig.faults
        window = faults.camera_blackout_s if kind == "camera" else faults.lidar_blackout_s
        if window and window[0] <= stamp <= window[1]:
            return False
        return not (faults.drop_probability > 0 and self.rng.random() < faults.drop_probability)
