"""Episode videos: highway-env's top-down render with the planned trajectory drawn on it."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from control.types import Trajectory
from sim.highway.frames import map_to_he_xy


class VideoRecorder:
    """``frame_sink`` for the runner: renders each tick and writes an MP4 with OpenCV.

    With a sensor rig, the first camera's view stands beside the top-down view: the camera frame the
    ``perception`` world model saw with its tracked boxes (magenta, track ids), otherwise a rendered
    frame with the ground-truth boxes (yellow).
    """

    def __init__(self, path: str | Path, fps: float = 10.0, rig=None, seed: int = 0, total_frames: int | None = None
                 ) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total_frames, desc="video", unit="frame", dynamic_ncols=True)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fps = fps
        self.rig, self.seed = rig, seed
        self._sensors = None
        self._writer: cv2.VideoWriter | None = None
        self.frames = 0

    def __call__(self, env, trajectory: Trajectory | None, world=None, source=None) -> None:
        frame = env.render()
        if frame is None:
            return
        frame = np.ascontiguousarray(frame[..., ::-1])  # RGB -> BGR for OpenCV
        if trajectory is not None:
            self._draw_trajectory(env, frame, trajectory)
        if world is not None and world.source != "ground_truth":
            self._draw_tracks(env, frame, world)
        self._draw_text(env, frame)
        if self.rig is not None and self.rig.cameras:
            frame = np.hstack([self._camera_view(env, frame.shape[0], world, source), frame])
        if self._writer is None:
            h, w = frame.shape[:2]
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self._writer.isOpened():
                raise ValueError(f"cannot write video to {self.path}")
        self._writer.write(frame)
        self.frames += 1
        self._bar.update(1)

    def _camera_view(self, env, height: int, world=None, source=None) -> np.ndarray:
        from sim.highway.ground_truth import VehicleIds, capture
        from sim.highway.roadmap import build_lane_map
        from sim.sensors.rig import RigConfig
        from sim.sensors.simulator import SensorSimulator
        from sim.sensors.views import camera_with_boxes

        seen = getattr(source, "last_frame", None)
        if seen is not None and seen.cameras and world is not None:
            img = tracks_on_camera(seen.cameras[0], world)
            scale = height / img.shape[0]
            return cv2.resize(img, (int(round(img.shape[1] * scale)), height), interpolation=cv2.INTER_LINEAR)
        if seen is not None:  # the camera dropped this frame
            w = int(round(height * self.rig.cameras[0].width_px / self.rig.cameras[0].height_px))
            return np.zeros((height, w, 3), np.uint8)
        if self._sensors is None:
            rig = RigConfig(cameras=self.rig.cameras[:1], lidars=(), noise=self.rig.noise)
            self._sensors = (SensorSimulator(rig, build_lane_map(env.unwrapped.road.network), self.seed), VehicleIds())
        sim, ids = self._sensors
        frame = sim.render(capture(env, float(env.unwrapped.time), ids))
        img = camera_with_boxes(frame.cameras[0], frame.labels)
        scale = height / img.shape[0]
        return cv2.resize(img, (int(round(img.shape[1] * scale)), height), interpolation=cv2.INTER_LINEAR)

    @staticmethod
    def _draw_trajectory(env, frame: np.ndarray, trajectory: Trajectory) -> None:
        viewer = getattr(env.unwrapped, "viewer", None)
        if viewer is None:
            return
        pts = map_to_he_xy(trajectory.xy_m)
        pix = np.array([viewer.sim_surface.pos2pix(x, y) for x, y in pts], dtype=np.int32)
        cv2.polylines(frame, [pix.reshape(-1, 1, 2)], False, (0, 200, 0), 2, cv2.LINE_AA)

    @staticmethod
    def _draw_tracks(env, frame: np.ndarray, world) -> None:
        """The world model's tracks as magenta outlines on the top-down view."""
        viewer = getattr(env.unwrapped, "viewer", None)
        if viewer is None:
            return
        for t in world.tracks:
            c, s = np.cos(t.yaw_rad), np.sin(t.yaw_rad)
            half = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]]) * [t.length_m / 2, t.width_m / 2]
            corners = np.column_stack([t.x_m + c * half[:, 0] - s * half[:, 1], t.y_m + s * half[:, 0] + c * half[:, 1]])
            pix = np.array([viewer.sim_surface.pos2pix(x, y) for x, y in map_to_he_xy(corners)], dtype=np.int32)
            cv2.polylines(frame, [pix.reshape(-1, 1, 2)], True, (255, 0, 255), 1, cv2.LINE_AA)

    @staticmethod
    def _draw_text(env, frame: np.ndarray) -> None:
        ego = env.unwrapped.vehicle
        text = f"t={env.unwrapped.time:5.1f}s  v={ego.speed:5.1f} m/s"
        cv2.putText(frame, text, (8, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)

    def close(self) -> None:
        self._bar.close()
        if self._writer is not None:
            self._writer.release()
            self._writer = None


def tracks_on_camera(cam, world) -> np.ndarray:
    """BGR camera image with the world model's tracks (map frame) drawn as boxes with their ids."""
    from fusion.ego_odometry import map_to_ego
    from perception.camera_targets import box_corners
    from sim.sensors.views import draw_boxes

    ego = world.ego
    xy = map_to_ego(ego, np.array([[t.x_m, t.y_m] for t in world.tracks]))
    corners = [box_corners(np.array([*p, 0.8]), np.array([t.length_m, t.width_m, 1.6]), t.yaw_rad - ego.yaw_rad)
               for p, t in zip(xy, world.tracks)]
    img = np.ascontiguousarray(cam.rgb[..., ::-1])
    draw_boxes(img, cam, corners, np.ones(len(corners), bool), [f"#{t.track_id}" for t in world.tracks], (255, 0, 255))
    return img
