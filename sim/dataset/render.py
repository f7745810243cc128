"""``drivestack render-sensors``: drive a scenario for a while, then save what the sensors see."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from sim.loop.setup import RunSetup, open_env
from sim.loop.tick import Episode
from sim.sensors.views import camera_with_boxes, lidar_bev, write_point_cloud


def render_sensors(setup: RunSetup, seed: int, ticks: int, out_dir: Path) -> list[Path]:
    """Drive the setup (rule planner on ground truth) ``ticks`` ticks, render the setup's rig at the
    last one (or where the episode ends, if earlier), write the pictures."""
    env = open_env(setup)
    try:
        episode = Episode(env, setup, seed)
        while True:
            record = episode.tick(sense=episode.index >= ticks)
            if record.frame is not None or record.terminated or record.truncated:
                break
        return _write(record.frame if record.frame is not None else episode.sensor_frame(), out_dir)
    finally:
        env.close()


def _write(frame, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for i, cam in enumerate(frame.cameras):
        written.append(out_dir / f"camera_{cam.calibration.name}.png")
        cv2.imwrite(str(written[-1]), camera_with_boxes(cam, frame.labels, i))
        depth = np.where(np.isfinite(cam.depth_m), np.clip(cam.depth_m / 100.0, 0, 1), 1.0)
        written.append(out_dir / f"depth_{cam.calibration.name}.png")
        cv2.imwrite(str(written[-1]), (255 * (1 - depth)).astype(np.uint8))
    written.append(out_dir / "lidar_bev.png")
    cv2.imwrite(str(written[-1]), lidar_bev(frame.lidars, frame.labels))
    for lid in frame.lidars:
        for ext in ("pcd", "ply"):
            written.append(out_dir / f"lidar_{lid.calibration.name}.{ext}")
            write_point_cloud(lid, written[-1])
    return written
