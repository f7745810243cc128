"""Monocular 3-D vehicle detector network (CenterNet family) on a torchvision ResNet-18 trunk.

Image rows below the crop -> ResNet-18 stem and layers 1-3 (strides 4, 8, 16; initialised from
scratch) -> a small top-down neck back to stride 4 with two pixel-coordinate channels (the row says
much about depth on a flat road) -> heads: centre heatmap (1) and regression (8 targets + 1 log
scale of the depth error, a Laplace aleatoric uncertainty).
"""
from __future__ import annotations

import numpy as np
import torch
import torchvision
from torch import nn
from torch.nn import functional as F

from perception.camera_targets import REG_CHANNELS, CameraInput

_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


def _conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class CameraCenterNet(nn.Module):
    """``forward(images)``: uint8 or float images (B, H_crop, W, 3) -> (heatmap logits (B, 1, h, w),
    regression (B, REG_CHANNELS + 1, h, w)) at the input's stride-4 grid."""

    def __init__(self, geo: CameraInput = CameraInput(), width: int = 64) -> None:
        super().__init__()
        self.geo = geo
        r = torchvision.models.resnet18(weights=None)
        self.stem = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool)
        self.layer1, self.layer2, self.layer3 = r.layer1, r.layer2, r.layer3
        self.lat3, self.lat2, self.lat1 = nn.Conv2d(256, 128, 1), nn.Conv2d(128, 128, 1), nn.Conv2d(64, width, 1)
        self.fuse2, self.down2 = _conv(128, 128), nn.Conv2d(128, width, 1)
        self.fuse1 = _conv(width + 2, width)
        self.heat = nn.Sequential(_conv(width, width), nn.Conv2d(width, 1, 1))
        self.reg = nn.Sequential(_conv(width, width), nn.Conv2d(width, REG_CHANNELS + 1, 1))
        nn.init.constant_(self.heat[-1].bias, -2.19)  # prior of 0.1 on the heatmap, as in CenterNet
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1) * 255.0, persistent=False)
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1) * 255.0, persistent=False)
        self.register_buffer("coords", _coords(geo), persistent=False)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = (images.permute(0, 3, 1, 2).float() - self.mean) / self.std
        c1 = self.layer1(self.stem(x))
        c2 = self.layer2(c1)
        c3 = self.layer3(c2)
        p2 = self.fuse2(self.lat2(c2) + F.interpolate(self.lat3(c3), size=c2.shape[-2:], mode="nearest"))
        p1 = self.lat1(c1) + F.interpolate(self.down2(p2), size=c1.shape[-2:], mode="nearest")
        p1 = self.fuse1(torch.cat([p1, self.coords.expand(x.shape[0], -1, -1, -1).to(p1.dtype)], dim=1))
        return self.heat(p1), self.reg(p1)


def _coords(geo: CameraInput) -> torch.Tensor:
    """(1, 2, h, w): each output cell's full-image pixel centre, u and v scaled to [-1, 1]."""
    h, w = geo.out_shape
    v = (np.arange(h) + 0.5) * geo.stride + geo.crop_top_px
    u = (np.arange(w) + 0.5) * geo.stride
    vv, uu = np.meshgrid(2 * v / geo.height_px - 1, 2 * u / geo.width_px - 1, indexing="ij")
    return torch.from_numpy(np.stack([uu, vv])[None].astype(np.float32))
