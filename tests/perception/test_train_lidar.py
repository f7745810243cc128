"""A tiny training run: losses, checkpoints, CSV log, resume and loading the result as a Detector."""
import pytest
import torch

from perception.lidar_detector import LidarNetDetector, load_lidar_net
from perception.train_lidar import TrainConfig, focal_loss, train_lidar


def test_focal_loss_prefers_the_right_heatmap():
    target = torch.zeros(1, 1, 8, 8)
    target[0, 0, 3, 4] = 1.0
    good = torch.full((1, 1, 8, 8), -6.0)
    good[0, 0, 3, 4] = 6.0
    assert focal_loss(good, target) < focal_loss(torch.zeros(1, 1, 8, 8), target)


def test_training_smoke_checkpoints_log_and_resume(tiny_data, tmp_path):
    cfg = TrainConfig(epochs=1, batch_size=2, device="cpu", max_val_frames=1, patience=5)
    res = train_lidar(tiny_data, tmp_path, cfg)
    assert res["epochs"] == 1 and (tmp_path / "best.pt").exists() and (tmp_path / "last.pt").exists()
    res2 = train_lidar(tiny_data, tmp_path, TrainConfig(epochs=2, batch_size=2, device="cpu", max_val_frames=1),
                       resume=True)
    assert res2["epochs"] == 2
    assert len((tmp_path / "metrics.csv").read_text().strip().splitlines()) == 3  # header + 2 epochs
    det = LidarNetDetector(tmp_path / "best.pt", device="cpu")
    assert det.net.grid.size == 256


def test_corrupt_or_missing_weights_give_clear_errors(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="cannot load lidar weights"):
        load_lidar_net(bad)
    with pytest.raises(ValueError, match="lidar weights not found"):
        load_lidar_net(tmp_path / "missing.pt")
    torch.save({"model": {"nope": torch.zeros(1)}, "grid": {}}, tmp_path / "wrong.pt")
    with pytest.raises(ValueError, match="cannot load lidar weights"):
        load_lidar_net(tmp_path / "wrong.pt")
