"""The training loop both detectors share: cosine learning rate, validation AP each epoch, early
stopping, best/last checkpoints with resume, a CSV metrics log and a progress bar."""
from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch
from tqdm import tqdm


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
    init_weights: str | None = None
    """Start from the network weights of this checkpoint (fine-tuning) instead of from scratch."""


def focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss over a Gaussian heatmap, per object."""
    p = torch.sigmoid(logits.float()).clamp(1e-4, 1 - 1e-4)
    pos = target.eq(1.0)
    pos_loss = -torch.log(p) * (1 - p) ** 2 * pos
    neg_loss = -torch.log(1 - p) * p ** 2 * (1 - target) ** 4 * ~pos
    return (pos_loss.sum() + neg_loss.sum()) / pos.sum().clamp(min=1)


def rows_at(reg: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Regression maps (B, C, H, W) at flat batch indices (K,) over B*H*W -> (K, C)."""
    return reg.permute(0, 2, 3, 1).reshape(-1, reg.shape[1])[index]


@dataclass
class Fit:
    """What one model contributes to the shared loop."""

    net: torch.nn.Module
    loader: Iterable
    loss: Callable[[object], torch.Tensor]
    """batch -> scalar loss (the model moves the batch to its device)."""
    validate: Callable[[], float]
    """-> validation AP@2m of the current weights."""
    best_payload: Callable[[], dict]
    """-> what ``best.pt`` holds (weights plus whatever the loader needs to rebuild the network)."""


def fit(job: Fit, cfg: TrainConfig, out: Path, resume: bool = False) -> dict:
    opt = torch.optim.AdamW(job.net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    out.mkdir(parents=True, exist_ok=True)
    state = {"epoch": 0, "best_ap": -1.0, "stale": 0}
    if resume and (out / "last.pt").exists():
        ckpt = torch.load(out / "last.pt", weights_only=False)
        job.net.load_state_dict(ckpt["model"]), opt.load_state_dict(ckpt["optim"])
        state = ckpt["state"]
    t0 = time.time()
    for epoch in range(state["epoch"], cfg.epochs):
        for group in opt.param_groups:  # cosine decay by epoch: nothing to restore on resume
            group["lr"] = cfg.lr * 0.5 * (1.0 + np.cos(np.pi * epoch / cfg.epochs))
        train_loss = _epoch(job, opt, f"epoch {epoch + 1}/{cfg.epochs}")
        ap = job.validate()
        state["epoch"] = epoch + 1
        improved = ap > state["best_ap"]
        state["best_ap"], state["stale"] = (ap, 0) if improved else (state["best_ap"], state["stale"] + 1)
        if improved:
            torch.save(job.best_payload(), out / "best.pt")
        torch.save({"model": job.net.state_dict(), "optim": opt.state_dict(), "state": state}, out / "last.pt")
        append_csv_row(out / "metrics.csv", {"epoch": epoch + 1, "train_loss": train_loss, "val_ap_2m": ap,
                                   "wall_s": time.time() - t0})
        if state["stale"] >= cfg.patience:
            break
    return {"best_val_ap_2m": state["best_ap"], "epochs": state["epoch"], "wall_s": time.time() - t0}


def _epoch(job: Fit, opt: torch.optim.Optimizer, desc: str) -> float:
    job.net.train()
    losses = []
    bar = tqdm(job.loader, desc=desc, unit="batch", dynamic_ncols=True)
    for batch in bar:
        loss = job.loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
    return float(np.mean(losses))


def append_csv_row(path: Path, row: dict) -> None:
    """Append ``row`` to the CSV file ``path``, writing its header first when the file is new."""
    new = not path.exists()
    with open(path, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)
