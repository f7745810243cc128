"""Shapes, batching and device handling of the lidar network (no training here)."""
import numpy as np
import torch

from perception.bev import BevGrid
from perception.lidar_net import LidarCenterNet, batch_points


def test_forward_shapes_and_batch_independence():
    torch.manual_seed(0)
    grid = BevGrid(half_extent_m=25.6)
    net = LidarCenterNet(grid, channels=8, width=16).eval()
    rng = np.random.default_rng(0)
    a = np.column_stack([rng.uniform(-20, 20, (500, 2)), rng.uniform(0, 2, 500), rng.uniform(0, 1, 500)])
    b = np.column_stack([rng.uniform(-20, 20, (300, 2)), rng.uniform(0, 2, 300), rng.uniform(0, 1, 300)])
    with torch.no_grad():
        heat, reg = net(*batch_points([a, b], grid))
        heat_a, _ = net(*batch_points([a], grid))
    assert heat.shape == (2, 1, grid.out_size, grid.out_size) and reg.shape == (2, 8, grid.out_size, grid.out_size)
    assert torch.allclose(heat[0], heat_a[0], atol=1e-5)  # a frame's output does not depend on its batch mates


def test_empty_cloud_runs():
    grid = BevGrid(half_extent_m=12.8)
    net = LidarCenterNet(grid, channels=8, width=8).eval()
    with torch.no_grad():
        heat, _ = net(*batch_points([np.zeros((0, 4))], grid))
    assert torch.isfinite(heat).all()
