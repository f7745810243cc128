"""Training of the lidar detector: focal + L1 losses, validation AP each epoch, early stopping,
checkpoints with resume, a CSV metrics log and a progress bar."""
from __future__ import annotations

import csv
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from perception.bev import BevGrid
from perception.lidar_data import LidarFrames, collate
from perception.lidar_detector import detections_from_output, resolve_device
from perception.lidar_net import LidarCenterNet, batch_points
from perception.evaluation import evaluate


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10
    batch_size: int = 8
    lr: float = 3e-3
    weight_decay: float = 1e-4
    patience: int = 3
    seed: int = 0
    device: str = "auto"
    max_train_frames: int | None = None
    max_val_frames: int | None = 200
    regression_weight: float = 1.0


def focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss over a Gaussian heatmap, per object."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = target.eq(1.0)
    pos_loss = -torch.log(p) * (1 - p) ** 2 * pos
    neg_loss = -torch.log(1 - p) * p ** 2 * (1 - target) ** 4 * ~pos
    return (pos_loss.sum() + neg_loss.sum()) / pos.sum().clamp(min=1)


def regression_loss(reg: torch.Tensor, index: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if len(index) == 0:
        return reg.sum() * 0.0
    flat = reg.permute(0, 2, 3, 1).reshape(-1, reg.shape[1])
    return torch.nn.functional.l1_loss(flat[index], target)


def train_lidar(data: Path, out: Path, cfg: TrainConfig, resume: bool = False) -> dict:
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)
    grid = BevGrid()
    net = LidarCenterNet(grid).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    train = LidarFrames(data, "train", grid, augment_data=True, seed=cfg.seed, max_frames=cfg.max_train_frames)
    val = LidarFrames(data, "val", grid, max_frames=cfg.max_val_frames)
    loader = torch.utils.data.DataLoader(train, cfg.batch_size, shuffle=True, collate_fn=collate,
                                         generator=torch.Generator().manual_seed(cfg.seed))
    out.mkdir(parents=True, exist_ok=True)
    state = {"epoch": 0, "best_ap": -1.0, "stale": 0}
    if resume and (out / "last.pt").exists():
        ckpt = torch.load(out / "last.pt", weights_only=False)
        net.load_state_dict(ckpt["model"]), opt.load_state_dict(ckpt["optim"])
        state = ckpt["state"]
    t0 = time.time()
    for epoch in range(state["epoch"], cfg.epochs):
        for group in opt.param_groups:  # cosine decay by epoch: nothing to restore on resume
            group["lr"] = cfg.lr * 0.5 * (1.0 + np.cos(np.pi * epoch / cfg.epochs))
        train_loss = _epoch(net, loader, opt, cfg, device, epoch)
        ap = _validate(net, val, grid, device)
        state["epoch"] = epoch + 1
        improved = ap > state["best_ap"]
        state["best_ap"], state["stale"] = (ap, 0) if improved else (state["best_ap"], state["stale"] + 1)
        if improved:
            torch.save({"model": net.state_dict(), "grid": asdict(grid), "kind": "lidar_centernet"}, out / "best.pt")
        torch.save({"model": net.state_dict(), "optim": opt.state_dict(), "state": state},
                   out / "last.pt")
        _log(out / "metrics.csv", {"epoch": epoch + 1, "train_loss": train_loss, "val_ap_2m": ap, "wall_s": time.time() - t0})
        if state["stale"] >= cfg.patience:
            break
    return {"best_val_ap_2m": state["best_ap"], "epochs": state["epoch"], "wall_s": time.time() - t0}


def _epoch(net, loader, opt, cfg: TrainConfig, device, epoch: int) -> float:
    net.train()
    losses = []
    bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="batch", dynamic_ncols=True)
    for clouds, heat, index, reg_t, _ in bar:
        heat_logits, reg = net(*batch_points(clouds, net.grid, device))
        loss = focal_loss(heat_logits, heat.to(device)) + cfg.regression_weight * regression_loss(
            reg, index.to(device), reg_t.to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
        bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
    return float(np.mean(losses))


@torch.no_grad()
def _validate(net, val: LidarFrames, grid: BevGrid, device) -> float:
    net.eval()
    pairs = []
    for i in range(len(val)):
        points, _, labels = val[i]
        heat, reg = net(*batch_points([points], grid, device))
        pairs.append((detections_from_output(heat[0, 0], reg[0], grid, 0.0, threshold=0.05), labels))
    return float(evaluate(pairs, "lidar")["ap"][2.0])


def _log(path: Path, row: dict) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)
