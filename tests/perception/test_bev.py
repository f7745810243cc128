"""BEV pillar indexing and the centre-heatmap encode/decode round trip."""
import numpy as np
import pytest

from perception.bev import BevGrid, decode, encode, pillarize
from perception.frames import BoxLabels


def _labels():
    centers = np.array([[12.3, -4.1, 0.8], [-30.7, 7.9, 0.8], [45.2, 0.4, 0.8]])
    return BoxLabels(np.array([1, 2, 3]), centers, np.tile([5.0, 2.0, 1.6], (3, 1)), np.array([0.1, -2.9, 1.5]),
                     np.zeros((3, 2)), np.array([50, 20, 5]), np.ones((3, 1)))


def test_pillar_index_and_offsets():
    grid = BevGrid()
    idx, feats = pillarize(np.array([[0.1, 0.3, 0.5, 0.2], [-51.1, 51.1, 0.0, 0.0], [60.0, 0.0, 0.0, 0.0],
                                     [np.nan, 0.0, 0.0, 0.0]]), grid)
    assert len(idx) == 2 and feats.shape == (2, 7)
    ix, iy = np.divmod(idx[0], grid.size)
    assert (ix, iy) == (128, 128) and feats[0, 4] == pytest.approx(-0.1) and feats[0, 5] == pytest.approx(0.1)


def test_encode_decode_round_trip():
    grid, labels = BevGrid(), _labels()
    t = encode(labels, grid)
    assert t.heatmap.max() == 1.0 and len(t.index) == 3
    reg = np.zeros((8, grid.out_size, grid.out_size), np.float32)
    reg.reshape(8, -1)[:, t.index] = t.regression.T
    center, size, yaw, score = decode(t.heatmap, reg, grid, threshold=0.99)
    order = np.argsort(center[:, 0])
    assert np.allclose(center[order], labels.center_m[np.argsort(labels.center_m[:, 0])], atol=1e-4)
    assert np.allclose(size, [5.0, 2.0, 1.6], atol=1e-4) and np.all(score == 1.0)
    assert np.allclose(np.sort(yaw), np.sort(labels.yaw_rad), atol=1e-5)


def test_boxes_outside_the_grid_are_not_targets():
    labels = _labels()
    far = BoxLabels(labels.track_id, labels.center_m + [100.0, 0, 0], labels.size_m, labels.yaw_rad,
                    labels.velocity_mps, labels.lidar_points, labels.visible_fraction)
    t = encode(far, BevGrid())
    assert len(t.index) == 0 and t.heatmap.max() == 0.0
