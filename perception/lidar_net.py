"""Lidar vehicle detector network (PointPillars encoder + CenterPoint-style head), in torch.

Points -> per-point MLP -> max over each pillar (scatter) -> BEV pseudo-image -> 2-D CNN at
stride 2 -> heads: centre heatmap (1), regression (8: offset x/y, log length/width, z, sin/cos yaw,
log height). Device-agnostic; batched over frames.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from perception.bev import POINT_FEATURES, BevGrid, pillarize


def _conv(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class PillarEncoder(nn.Module):
    """Learned pillar features: a shared point MLP and a max over the points of each pillar."""

    def __init__(self, grid: BevGrid, channels: int = 32) -> None:
        super().__init__()
        self.grid, self.channels = grid, channels
        self.mlp = nn.Sequential(nn.Linear(POINT_FEATURES, channels, bias=False), nn.BatchNorm1d(channels),
                                 nn.ReLU(inplace=True))

    def forward(self, feats: torch.Tensor, index: torch.Tensor, batch: int) -> torch.Tensor:
        """Point features (P, 7) with flat pillar indices (P,) over all frames -> (B, C, S, S)."""
        cells = batch * self.grid.size ** 2
        h = self.mlp(feats) if len(feats) else None
        out = feats.new_zeros(cells, self.channels, dtype=h.dtype if h is not None else feats.dtype)  # bf16 under autocast
        if h is not None:
            out = out.scatter_reduce(0, index[:, None].expand(-1, self.channels), h, "amax", include_self=True)
        s = self.grid.size
        # (B, C, S, S) view whose memory is already channels-last: no copy, and the convs run in that layout
        return out.view(batch, s, s, self.channels).permute(0, 3, 1, 2)


class LidarCenterNet(nn.Module):
    """Full detector network; ``forward`` returns (heatmap logits (B,1,S,S), regression (B,8,S,S))."""

    def __init__(self, grid: BevGrid = BevGrid(), channels: int = 16, width: int = 32) -> None:
        super().__init__()
        self.grid = grid
        self.encoder = PillarEncoder(grid, channels)
        self.backbone = nn.Sequential(_conv(channels, width, grid.stride), _conv(width, width), _conv(width, width))
        self.heat = nn.Sequential(_conv(width, width), nn.Conv2d(width, 1, 1))
        self.reg = nn.Sequential(_conv(width, width), nn.Conv2d(width, 8, 1))
        nn.init.constant_(self.heat[-1].bias, -2.19)  # prior of 0.1 on the heatmap, as in CenterNet

    def forward(self, feats: torch.Tensor, index: torch.Tensor, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.backbone(self.encoder(feats, index, batch))
        return self.heat(x), self.reg(x)


def batch_points(clouds: list[np.ndarray], grid: BevGrid, device: torch.device | str = "cpu"
                 ) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Pillarize ego-frame clouds (each (N, 4)) into one batch: features, flat indices, batch size."""
    feats, index = [], []
    for b, cloud in enumerate(clouds):
        idx, f = pillarize(cloud, grid)
        feats.append(f)
        index.append(idx + b * grid.size ** 2)
    f = torch.from_numpy(np.concatenate(feats) if feats else np.zeros((0, POINT_FEATURES), np.float32))
    i = torch.from_numpy(np.concatenate(index) if index else np.zeros(0, np.int64))
    return f.to(device), i.to(device), len(clouds)
