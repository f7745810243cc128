"""On-disk sensor frames (``.npz``, one per frame) and the data-set manifest written by datagen."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from perception.calibration import CameraCalibration, LidarCalibration
from perception.frames import BoxLabels, CameraFrame, LidarFrame, SensorFrame

MANIFEST = "manifest.json"
SPLITS = ("train", "val", "test")
LABEL_FIELDS = ("track_id", "center_m", "size_m", "yaw_rad", "velocity_mps", "lidar_points", "visible_fraction")


def frame_arrays(frame: SensorFrame, labelled: bool = True) -> dict[str, np.ndarray]:
    """Flat arrays of a sensor frame, for ``np.savez_compressed``. ``labelled=False`` keeps what a
    real car records (images, points, calibration): no labels, and no rendered depth or instance
    masks, which are simulator ground truth too."""
    out: dict[str, np.ndarray] = {"stamp": np.array(frame.stamp)}
    for cam in frame.cameras:
        c, p = cam.calibration, f"camera/{cam.calibration.name}/"
        out |= {p + "rgb": cam.rgb, p + "K": c.K, p + "T_ego_from_sensor": c.T_ego_from_sensor}
        if labelled:
            out |= {p + "depth_m": cam.depth_m.astype(np.float16), p + "instance_id": cam.instance_id}
    for lid in frame.lidars:
        c, p = lid.calibration, f"lidar/{lid.calibration.name}/"
        out |= {p + "points": lid.points, p + "T_ego_from_sensor": c.T_ego_from_sensor,
                p + "spec": np.array([c.n_beams, c.vfov_deg[0], c.vfov_deg[1], c.azimuth_resolution_deg, c.max_range_m])}
    if labelled and frame.labels is not None:
        out |= {f"labels/{k}": getattr(frame.labels, k) for k in LABEL_FIELDS}
    return out


SIMULATOR_ONLY = ("labels/", "/depth_m", "/instance_id")
"""Members of a frame file that only a simulator can write (ground truth)."""


def load_frame(path: str | Path, sensor_data_only: bool = False) -> SensorFrame:
    """Read a frame written by ``drivestack datagen``; a bad file is a ValueError naming it.
    ``sensor_data_only``: what a real car records (images, points, calibration), whatever else the
    file holds; simulator-only members are never read (no labels, depth or instance masks)."""
    try:
        with np.load(path) as z:
            data = {k: z[k] for k in z.files
                    if not (sensor_data_only and any(tag in k for tag in SIMULATOR_ONLY))}
        stamp = float(data["stamp"])
        return SensorFrame(stamp, _cameras(data, stamp), _lidars(data, stamp), _labels(data))
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise unreadable(path, exc) from exc
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"sensor frame {path} is not a drivestack frame (missing or malformed {exc})") from exc


def load_sensor_data(path: str | Path) -> SensorFrame:
    """``load_frame(path, sensor_data_only=True)``: the frame as a real car would have recorded it."""
    return load_frame(path, sensor_data_only=True)


def unreadable(path: str | Path, exc: BaseException) -> ValueError:
    """The one-line error for a frame file that cannot be read (first line of the cause)."""
    return ValueError(f"cannot read sensor frame {path}: {(str(exc).splitlines() or [type(exc).__name__])[0]}")


def _names(data: dict, kind: str) -> list[str]:
    return sorted({k.split("/")[1] for k in data if k.startswith(kind + "/")})


def _cameras(data: dict, stamp: float) -> tuple[CameraFrame, ...]:
    cams = []
    for name in _names(data, "camera"):
        p = f"camera/{name}/"
        rgb = data[p + "rgb"]
        cal = CameraCalibration(name, data[p + "K"], rgb.shape[1], rgb.shape[0], data[p + "T_ego_from_sensor"])
        if p + "depth_m" in data:
            depth, instance = data[p + "depth_m"].astype(np.float32), data[p + "instance_id"]
        else:  # an unlabelled frame: depth unknown (NaN), no instance (-1)
            depth, instance = np.full(rgb.shape[:2], np.nan, np.float32), np.full(rgb.shape[:2], -1, np.int32)
        cams.append(CameraFrame(stamp, cal, rgb, depth, instance))
    return tuple(cams)


def _lidars(data: dict, stamp: float) -> tuple[LidarFrame, ...]:
    lids = []
    for name in _names(data, "lidar"):
        p = f"lidar/{name}/"
        n, lo, hi, res, rng = data[p + "spec"]
        cal = LidarCalibration(name, int(n), (float(lo), float(hi)), float(res), float(rng), data[p + "T_ego_from_sensor"])
        lids.append(LidarFrame(stamp, cal, data[p + "points"]))
    return tuple(lids)


def _labels(data: dict) -> BoxLabels | None:
    if "labels/track_id" not in data:
        return None
    return read_labels(data)


def read_labels(data) -> BoxLabels:
    """The labels of a frame from its arrays (a dict or an open ``np.load`` file)."""
    return BoxLabels(*(data[f"labels/{k}"] for k in LABEL_FIELDS))


def read_manifest(root: str | Path) -> dict:
    """The manifest of a data set directory (frames with split, scenario, seed, tick, path)."""
    path = Path(root) / MANIFEST
    if not path.exists():
        raise ValueError(f"no {MANIFEST} in {root}: not a drivestack data set")
    try:
        manifest = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None
    frames = manifest.get("frames") if isinstance(manifest, dict) else None
    if not isinstance(frames, list) or not all(isinstance(f, dict) and {"path", "split"} <= f.keys() for f in frames):
        raise ValueError(f"{path} is not a drivestack manifest: it needs a 'frames' list of {{path, split, ...}}")
    return manifest
