"""Training data for the lidar detector: frames from a datagen directory -> points + targets."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from perception.bev import BevGrid, Targets, encode
from perception.calibration import transform_points
from perception.dataset import read_labels, read_manifest, unreadable
from perception.frames import BoxLabels


def load_lidar_sample(path: Path) -> tuple[np.ndarray, BoxLabels]:
    """Ego-frame points (N, 4: x, y, z, intensity) of all lidars and the labels; only these members
    of the compressed file are read. An unreadable file is a ValueError naming it."""
    try:
        return _read_lidar_sample(path)
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise unreadable(path, exc) from exc


def _read_lidar_sample(path: Path) -> tuple[np.ndarray, BoxLabels]:
    with np.load(path) as z:
        names = sorted({k.split("/")[1] for k in z.files if k.startswith("lidar/")})
        clouds = []
        for n in names:
            pts = z[f"lidar/{n}/points"]
            xyz = transform_points(z[f"lidar/{n}/T_ego_from_sensor"], pts[:, :3].astype(float))
            clouds.append(np.column_stack([xyz, pts[:, 3]]).astype(np.float32))
        labels = read_labels(z)
    return (np.concatenate(clouds) if clouds else np.zeros((0, 4), np.float32)), labels


def augment(points: np.ndarray, labels: BoxLabels, rng: np.random.Generator) -> tuple[np.ndarray, BoxLabels]:
    """Random mirror across the x axis and a small rotation about z, applied to points and boxes alike."""
    pts, center, yaw, vel = points.copy(), labels.center_m.copy(), labels.yaw_rad.copy(), labels.velocity_mps.copy()
    if rng.random() < 0.5:
        pts[:, 1] *= -1
        center[:, 1] *= -1
        yaw, vel[:, 1] = -yaw, -vel[:, 1]
    a = rng.uniform(-0.15, 0.15)
    c, s = np.cos(a), np.sin(a)
    rot = np.array([[c, -s], [s, c]])
    pts[:, :2] = pts[:, :2] @ rot.T
    center[:, :2] = center[:, :2] @ rot.T
    vel = vel @ rot.T
    return pts, BoxLabels(labels.track_id, center, labels.size_m, yaw + a, vel, labels.lidar_points,
                          labels.visible_fraction)


class LidarFrames(torch.utils.data.Dataset):
    """One split of a datagen directory as (points, targets) samples."""

    def __init__(self, root: str | Path, split: str, grid: BevGrid, augment_data: bool = False, seed: int = 0,
                 max_frames: int | None = None, rows: list[dict] | None = None) -> None:
        """``rows``: these manifest rows instead of the split's (a federated client's shard)."""
        self.root, self.grid, self.augment_data = Path(root), grid, augment_data
        self.rows = rows if rows is not None else [f for f in read_manifest(root)["frames"] if f["split"] == split][:max_frames]
        if not self.rows:
            raise ValueError(f"no '{split}' frames in {root}")
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> tuple[np.ndarray, Targets, BoxLabels]:
        points, labels = load_lidar_sample(self.root / self.rows[i]["path"])
        if self.augment_data:
            points, labels = augment(points, labels, self.rng)
        return points, encode(labels, self.grid, keep=labels.lidar_points > 0), labels


def collate(samples: list) -> tuple[list[np.ndarray], torch.Tensor, torch.Tensor, torch.Tensor, list[BoxLabels]]:
    """Clouds, heatmaps (B, 1, S, S), flat batch indices of object centres (K,), regression (K, 8), labels."""
    clouds = [s[0] for s in samples]
    heat = torch.from_numpy(np.stack([s[1].heatmap for s in samples]))[:, None]
    cells = heat.shape[-1] ** 2
    index = torch.from_numpy(np.concatenate([s[1].index + b * cells for b, s in enumerate(samples)]))
    reg = torch.from_numpy(np.concatenate([s[1].regression for s in samples]))
    return clouds, heat, index, reg, [s[2] for s in samples]
