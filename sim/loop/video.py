"""Episode videos from the tick records: highway-env's top-down picture with the plan and the
tracks drawn on it, beside the front camera image of the same tick."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from sim.highway.env import TopDownView
from sim.loop.tick import TickRecord


class VideoRecorder:
    """A tick sink for ``run_episode(..., render=True)`` that writes an MP4 with OpenCV.

    With ``camera_view`` (and ``sensors=True`` in the run, so every tick has a frame), the first
    camera's image stands beside the top-down view: with the ``perception`` world model the image
    the stack saw with its tracked boxes (magenta, track ids), otherwise with the ground-truth boxes
    (yellow); black when the camera dropped the frame.
    """

    def __init__(self, path: str | Path, fps: float = 10.0, camera_aspect: float | None = None,
                 total_frames: int | None = None) -> None:
        """``camera_aspect``: width / height of the camera image to show (None: no camera view)."""
        from tqdm import tqdm

        self._bar = tqdm(total=total_frames, desc="video", unit="frame", dynamic_ncols=True)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fps, self.camera_aspect = fps, camera_aspect
        self._writer: cv2.VideoWriter | None = None
        self.frames = 0

    def __call__(self, record: TickRecord) -> None:
        view = record.top_down
        if view is None:
            return
        frame = np.ascontiguousarray(view.rgb[..., ::-1])  # RGB -> BGR for OpenCV
        if record.trajectory is not None:
            cv2.polylines(frame, [view.to_pixels(record.trajectory.xy_m).reshape(-1, 1, 2)], False, (0, 200, 0), 2,
                          cv2.LINE_AA)
        if record.world.source != "ground_truth":
            _draw_tracks(view, frame, record.world)
        text = f"t={record.stamp:5.1f}s  v={record.ground_truth.ego.speed_mps:5.1f} m/s"
        cv2.putText(frame, text, (8, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        if self.camera_aspect is not None and record.frame is not None:
            frame = np.hstack([_camera_view(record, frame.shape[0], self.camera_aspect), frame])
        self._write(frame)

    def _write(self, frame: np.ndarray) -> None:
        if self._writer is None:
            h, w = frame.shape[:2]
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self._writer.isOpened():
                raise ValueError(f"cannot write video to {self.path}")
        self._writer.write(frame)
        self.frames += 1
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()
        if self._writer is not None:
            self._writer.release()
            self._writer = None


def _camera_view(record: TickRecord, height: int, aspect: float) -> np.ndarray:
    from sim.sensors.views import camera_with_boxes

    frame = record.frame
    if not frame.cameras:  # the camera dropped this frame
        return np.zeros((height, int(round(height * aspect)), 3), np.uint8)
    cam = frame.cameras[0]
    if record.world.source == "perception":
        img = tracks_on_camera(cam, record.world)
    else:
        img = camera_with_boxes(cam, frame.labels)
    scale = height / img.shape[0]
    return cv2.resize(img, (int(round(img.shape[1] * scale)), height), interpolation=cv2.INTER_LINEAR)


def _draw_tracks(view: TopDownView, frame: np.ndarray, world) -> None:
    """The world model's tracks as magenta outlines on the top-down view."""
    for t in world.tracks:
        c, s = np.cos(t.yaw_rad), np.sin(t.yaw_rad)
        half = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]]) * [t.length_m / 2, t.width_m / 2]
        corners = np.column_stack([t.x_m + c * half[:, 0] - s * half[:, 1], t.y_m + s * half[:, 0] + c * half[:, 1]])
        cv2.polylines(frame, [view.to_pixels(corners).reshape(-1, 1, 2)], True, (255, 0, 255), 1, cv2.LINE_AA)


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
