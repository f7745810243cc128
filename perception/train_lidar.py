"""Training of the lidar detector: focal + L1 losses on the BEV grid, in the shared loop."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from perception.bev import BevGrid
from perception.evaluation import evaluate
from perception.lidar_data import LidarFrames, collate
from perception.lidar_detector import detections_from_output, resolve_device
from perception.lidar_net import LidarCenterNet, batch_points
from perception.training import Fit, TrainConfig, fit, focal_loss, rows_at

__all__ = ["TrainConfig", "focal_loss", "lidar_loss", "lidar_payload", "train_lidar", "validate_lidar"]


def train_lidar(data: Path, out: Path, cfg: TrainConfig, resume: bool = False) -> dict:
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)
    grid = BevGrid()
    net = LidarCenterNet(grid).to(device)
    train = LidarFrames(data, "train", grid, augment_data=True, seed=cfg.seed, max_frames=cfg.max_train_frames)
    val = LidarFrames(data, "val", grid, max_frames=cfg.max_val_frames)
    loader = torch.utils.data.DataLoader(train, cfg.batch_size, shuffle=True, collate_fn=collate,
                                         generator=torch.Generator().manual_seed(cfg.seed))

    loss = lambda batch: lidar_loss(net, batch, device, cfg.regression_weight)  # noqa: E731
    return fit(Fit(net, loader, loss, lambda: validate_lidar(net, val, grid, device), lambda: lidar_payload(net)),
               cfg, out, resume)


def lidar_payload(net: LidarCenterNet) -> dict:
    """``best.pt`` of a lidar network, in the format the detector loads."""
    return {"model": net.state_dict(), "grid": asdict(net.grid), "kind": "lidar_centernet"}


def lidar_loss(net: LidarCenterNet, batch, device, regression_weight: float = 1.0) -> torch.Tensor:
    """Focal loss on the centre heatmap plus L1 on the regression at object centres, of one batch."""
    clouds, heat, index, reg_t, _ = batch
    heat_logits, reg = net(*batch_points(clouds, net.grid, device))
    l1 = torch.nn.functional.l1_loss(rows_at(reg, index.to(device)), reg_t.to(device)) if len(index) else reg.sum() * 0
    return focal_loss(heat_logits, heat.to(device)) + regression_weight * l1


@torch.no_grad()
def validate_lidar(net, val: LidarFrames, grid: BevGrid, device) -> float:
    net.eval()
    pairs = []
    for i in range(len(val)):
        points, _, labels = val[i]
        heat, reg = net(*batch_points([points], grid, device))
        pairs.append((detections_from_output(heat[0, 0], reg[0], grid, 0.0, threshold=0.05), labels))
    return float(evaluate(pairs, "lidar")["ap"][2.0])
