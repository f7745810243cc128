"""Training data for the camera detector: the first camera's image rows below the crop and its
image-plane targets, held in memory (a few hundred MB for a few thousand frames)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from perception.calibration import CameraCalibration
from perception.camera_targets import CameraInput, ImageTargets, encode_image, mirror_symmetric
from perception.dataset import read_labels, read_manifest
from perception.frames import BoxLabels


def load_camera_sample(path: Path) -> tuple[np.ndarray, CameraCalibration, BoxLabels]:
    """RGB (H, W, 3), calibration and labels of the first camera; only those members are read."""
    with np.load(path) as z:
        name = sorted({k.split("/")[1] for k in z.files if k.startswith("camera/")})[0]
        rgb = z[f"camera/{name}/rgb"]
        cal = CameraCalibration(name, z[f"camera/{name}/K"], rgb.shape[1], rgb.shape[0],
                                z[f"camera/{name}/T_ego_from_sensor"])
        if "labels/track_id" not in z.files:
            raise ValueError(f"{path} has no labels (an unlabelled data set: train the camera with --labels pseudo)")
        labels = read_labels(z)
    return rgb, cal, labels


def mirror(labels: BoxLabels) -> BoxLabels:
    """The scene mirrored across the ego's x axis."""
    center, vel = labels.center_m * [1, -1, 1], labels.velocity_mps * [1, -1]
    return BoxLabels(labels.track_id, center, labels.size_m, -labels.yaw_rad, vel, labels.lidar_points,
                     labels.visible_fraction)


class CameraFrames(torch.utils.data.Dataset):
    """One split of a datagen directory as (cropped image, targets, labels, calibration) samples."""

    def __init__(self, root: str | Path, split: str, geo: CameraInput, augment_data: bool = False, seed: int = 0,
                 max_frames: int | None = None, rows: list[dict] | None = None) -> None:
        """``rows``: these manifest rows instead of the split's (a federated client's shard)."""
        rows = rows if rows is not None else [f for f in read_manifest(root)["frames"] if f["split"] == split][:max_frames]
        if not rows:
            raise ValueError(f"no '{split}' frames in {root}")
        self.geo, self.augment_data, self.rng = geo, augment_data, np.random.default_rng(seed)
        self.samples = [self._load(Path(root) / r["path"])
                        for r in tqdm(rows, desc=f"load {split}", unit="frame", dynamic_ncols=True, leave=False)]
        rgb, cal, _ = self.samples[0]
        if rgb.shape[:2] != (geo.height_px, geo.width_px):
            raise ValueError(f"images are {rgb.shape[1]}x{rgb.shape[0]}; the network expects {geo.width_px}x{geo.height_px}")
        self.samples = [(geo.crop(s[0]), s[1], s[2]) for s in self.samples]
        self.can_flip = mirror_symmetric(cal)

    def _load(self, path: Path) -> tuple[np.ndarray, CameraCalibration, BoxLabels]:
        """One frame's RGB, calibration and labels (a subclass may take the labels from elsewhere)."""
        return load_camera_sample(path)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[np.ndarray, ImageTargets, BoxLabels, CameraCalibration]:
        image, cal, labels = self.samples[i]
        if self.augment_data and self.can_flip and self.rng.random() < 0.5:
            image, labels = image[:, ::-1], mirror(labels)
        return np.ascontiguousarray(image), encode_image(labels, cal, 0, self.geo), labels, cal


def collate(samples: list) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Images (B, h, W, 3) uint8, heatmaps (B, 1, h_out, w_out), flat batch indices (K,), regression (K, C)."""
    images = torch.from_numpy(np.stack([s[0] for s in samples]))
    heat = torch.from_numpy(np.stack([s[1].heatmap for s in samples]))[:, None]
    cells = heat.shape[-1] * heat.shape[-2]
    index = torch.from_numpy(np.concatenate([s[1].index + b * cells for b, s in enumerate(samples)]))
    reg = torch.from_numpy(np.concatenate([s[1].regression for s in samples]))
    return images, heat, index, reg


def photometric(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random brightness, contrast, colour balance and pixel noise on a uint8 batch -> float batch."""
    b = len(images)
    x = images.float()
    gain = torch.empty(b, 1, 1, 1).uniform_(0.7, 1.3, generator=gen) * torch.empty(b, 1, 1, 3).uniform_(0.9, 1.1, generator=gen)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    contrast = torch.empty(b, 1, 1, 1).uniform_(0.8, 1.2, generator=gen)
    noise = torch.randn(x.shape, generator=gen) * torch.empty(b, 1, 1, 1).uniform_(0.0, 6.0, generator=gen)
    return (((x - mean) * contrast + mean) * gain + noise).clamp(0.0, 255.0)
