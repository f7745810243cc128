"""Training of the camera detector: focal loss on the centre heatmap, L1 on offsets, sizes and
angle, a Laplace likelihood on log depth (which also learns the depth uncertainty), in the shared
loop; the covariance model is fitted on validation data at every validation."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from perception.camera_data import CameraFrames, collate, photometric
from perception.camera_detector import CovarianceModel, decode_output, fit_covariance, fit_depth_gain
from perception.camera_net import CameraCenterNet
from perception.camera_targets import CameraInput
from perception.detections import Detections
from perception.evaluation import evaluate
from perception.lidar_detector import resolve_device
from perception.pseudo_labels import PseudoCameraFrames, PseudoLabelConfig
from perception.training import Fit, TrainConfig, fit, focal_loss, rows_at

DEPTH_WEIGHT = 2.0


def regression_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """pred (K, 9), target (K, 8): L1 on offsets, sizes and angle; Laplace NLL on log depth."""
    log_b = pred[:, 8].clamp(-6.0, 2.0)
    depth = (pred[:, 2] - target[:, 2]).abs() * torch.exp(-log_b) + log_b
    others = F.l1_loss(pred[:, [0, 1, 3, 4, 5, 6, 7]], target[:, [0, 1, 3, 4, 5, 6, 7]])
    return others + DEPTH_WEIGHT * depth.mean()


def train_camera(data: Path, out: Path, cfg: TrainConfig, resume: bool = False, pseudo: PseudoLabelConfig | None = None,
                 val_data: Path | None = None) -> dict:
    """Train on ``data``'s train split: with its labels, or (``pseudo``) with the lidar teacher's boxes
    on its frames, labels never read. Validation on ``val_data`` (default ``data``), ground truth."""
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)
    geo = CameraInput()
    net = CameraCenterNet(geo)
    if cfg.init_weights:
        net.load_state_dict(torch.load(cfg.init_weights, map_location="cpu", weights_only=True)["model"])
    net = net.to(device)
    if pseudo is None:
        train = CameraFrames(data, "train", geo, augment_data=True, seed=cfg.seed, max_frames=cfg.max_train_frames)
    else:
        train = PseudoCameraFrames(data, "train", geo, pseudo, augment_data=True, seed=cfg.seed,
                                   max_frames=cfg.max_train_frames)
        boxes, extra, seen = train.label_counts()
        student = f" + {extra} far student boxes (score >= {pseudo.student_threshold})" if pseudo.student else ""
        print(f"pseudo-labels: {boxes} teacher boxes (score >= {pseudo.score_threshold}){student} in {len(train)} "
              f"frames, {seen} seen by the camera")
    val = CameraFrames(val_data or data, "val", geo, max_frames=cfg.max_val_frames)
    loader = torch.utils.data.DataLoader(train, cfg.batch_size, shuffle=True, collate_fn=collate,
                                         generator=torch.Generator().manual_seed(cfg.seed))
    gen = torch.Generator().manual_seed(cfg.seed)
    fitted = {"covariance": CovarianceModel(), "depth_gain": 1.0}

    loss = lambda batch: camera_loss(net, batch, gen, device, cfg.regression_weight)  # noqa: E731

    def validate() -> float:
        recalibrate_batchnorm(net, train, device, seed=cfg.seed)
        ap, fitted["covariance"], fitted["depth_gain"] = validate_camera(net, val, device)
        return ap

    labels = "ground truth" if pseudo is None else f"pseudo: lidar teacher {pseudo.teacher}, score >= {pseudo.score_threshold}" \
        + (f"; self-training: student {pseudo.student}, score >= {pseudo.student_threshold}" if pseudo and pseudo.student else "")
    payload = lambda: camera_payload(net, fitted["covariance"], fitted["depth_gain"]) | {"labels": labels}  # noqa: E731

    return fit(Fit(net, loader, loss, validate, payload), cfg, out, resume)


def camera_payload(net: CameraCenterNet, covariance: CovarianceModel, depth_gain: float) -> dict:
    """``best.pt`` of a camera network with its fitted covariance model and depth gain, as the detector loads it."""
    return {"model": net.state_dict(), "input": asdict(net.geo), "covariance": asdict(covariance),
            "depth_gain": depth_gain, "kind": "camera_centernet"}


def camera_loss(net: CameraCenterNet, batch, gen: torch.Generator, device, regression_weight: float = 1.0) -> torch.Tensor:
    """Focal loss on the heatmap plus the regression loss at object centres, of one photometrically
    augmented batch."""
    images, heat, index, reg_t = batch
    heat_logits, reg = net(photometric(images, gen).to(device))
    reg_loss = regression_loss(rows_at(reg, index.to(device)), reg_t.to(device)) if len(index) else reg.sum() * 0
    return focal_loss(heat_logits, heat.to(device)) + regression_weight * reg_loss


@torch.no_grad()
def recalibrate_batchnorm(net: CameraCenterNet, data: CameraFrames, device, batches: int = 20, batch_size: int = 32,
                          seed: int = 0) -> None:
    """Precise BatchNorm: replace the running statistics by exact averages over ``batches`` training
    batches under the current weights. The running averages lag behind weights that move quickly
    (from scratch, at a high learning rate), and depth regressed from them came out ~12 % too far."""
    norms = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    loader = torch.utils.data.DataLoader(data, batch_size, shuffle=True, collate_fn=collate,
                                         generator=torch.Generator().manual_seed(seed))
    net.train()
    for i, (images, *_) in enumerate(loader):
        if i >= batches:
            break
        net(images.to(device))
    for m in norms:
        m.momentum = 0.1


@torch.no_grad()
def validate_camera(net: CameraCenterNet, val: CameraFrames, device) -> tuple[float, CovarianceModel, float]:
    """Validation AP@2m (camera-visible ground truth) after the depth gain and covariance model are
    fitted on the same frames; returns all three."""
    net.eval()
    outputs = []
    for i in range(len(val)):
        image, _, labels, cal = val[i]
        heat, reg = net(torch.from_numpy(image)[None].to(device))
        outputs.append((heat[0, 0], reg[0], labels, cal))
    decode = lambda gain: [(decode_output(h, r, cal, net.geo, 0.05, gain), labels, cal)  # noqa: E731
                           for h, r, labels, cal in outputs]
    gain = fit_depth_gain(decode(1.0))
    decoded = decode(gain)
    pairs = [(Detections(0.0, "camera", b["center_m"], b["size_m"], b["yaw_rad"], b["score"],
                         np.zeros((len(b["score"]), 2, 2))), labels) for b, labels, _ in decoded]
    cov = fit_covariance([(b, labels) for b, labels, _ in decoded])
    return float(evaluate(pairs, "camera")["ap"][2.0]), cov, gain
