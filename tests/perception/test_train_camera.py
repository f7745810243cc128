"""Camera detector: loss, a tiny training run (checkpoints, log, resume, covariance model), loading
errors and bad input."""
import dataclasses

import numpy as np
import pytest
import torch

from perception.camera_detector import CameraNetDetector, CovarianceModel, load_camera_net
from perception.camera_net import CameraCenterNet
from perception.dataset import load_frame, read_manifest
from perception.frames import SensorFrame
from perception.train_camera import regression_loss, train_camera
from perception.training import TrainConfig


def test_network_is_batch_independent():
    net = CameraCenterNet().eval()
    x = torch.randint(0, 255, (2, 80, 320, 3), dtype=torch.uint8)
    with torch.no_grad():
        heat, reg = net(x)
        heat1, _ = net(x[1:])
    assert heat.shape == (2, 1, 20, 80) and reg.shape == (2, 9, 20, 80)
    assert torch.allclose(heat[1:], heat1, atol=1e-4)


def test_depth_loss_rewards_an_honest_uncertainty():
    target = torch.zeros(4, 8)
    target[:, 2] = torch.log(torch.tensor([10.0, 20.0, 30.0, 40.0]))
    pred = target.clone().repeat(1, 1)
    pred = torch.cat([pred, torch.zeros(4, 1)], dim=1)
    pred[:, 2] += 0.1  # a 10 % depth error everywhere
    honest, overconfident = pred.clone(), pred.clone()
    honest[:, 8], overconfident[:, 8] = np.log(0.1), np.log(0.001)
    assert regression_loss(honest, target) < regression_loss(overconfident, target)


def test_training_smoke_checkpoints_log_resume_and_load(tiny_data, tmp_path):
    cfg = TrainConfig(epochs=1, batch_size=2, device="cpu", max_val_frames=1, patience=5, lr=1e-3)
    assert train_camera(tiny_data, tmp_path, cfg)["epochs"] == 1
    assert (tmp_path / "best.pt").exists() and (tmp_path / "last.pt").exists()
    assert train_camera(tiny_data, tmp_path, dataclasses.replace(cfg, epochs=2), resume=True)["epochs"] == 2
    assert len((tmp_path / "metrics.csv").read_text().strip().splitlines()) == 3
    det = CameraNetDetector(tmp_path / "best.pt", device="cpu", threshold=0.0)
    assert isinstance(det.cov, CovarianceModel) and 0.5 < det.depth_gain < 2.0
    frame = load_frame(tiny_data / read_manifest(tiny_data)["frames"][0]["path"])
    out = det.detect(frame)
    assert out.source == "camera" and out.center_m.shape[1] == 3 and np.isfinite(out.covariance_m2).all()


def test_covariance_is_long_along_the_viewing_ray():
    cov = CovarianceModel(depth_scale=1.0, lateral_per_m=0.01).covariance(
        np.array([[30.0, 30.0, 0.8]]), np.array([42.0]), np.array([np.log(0.05)]))[0]
    w, v = np.linalg.eigh(cov)
    assert w[1] > 10 * w[0] and abs(abs(v[:, 1] @ [np.sqrt(0.5), np.sqrt(0.5)]) - 1.0) < 1e-6


def test_corrupt_missing_or_mismatched_weights_give_clear_errors(tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="cannot load camera weights"):
        load_camera_net(tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="camera weights not found"):
        load_camera_net(tmp_path / "missing.pt")
    torch.save({"model": {"nope": torch.zeros(1)}, "input": {}}, tmp_path / "wrong.pt")
    with pytest.raises(ValueError, match="cannot load camera weights"):
        load_camera_net(tmp_path / "wrong.pt")


def test_wrong_image_shape_is_a_clear_error_and_no_camera_gives_no_boxes(tiny_data):
    frame = load_frame(tiny_data / read_manifest(tiny_data)["frames"][0]["path"])
    det = CameraNetDetector(device="cpu")
    assert len(det.detect(SensorFrame(frame.stamp, (), frame.lidars))) == 0  # camera dropped its frame
    cam = frame.cameras[0]
    small = dataclasses.replace(cam, rgb=cam.rgb[:100])
    with pytest.raises(ValueError, match="camera 'front' image is"):
        det.detect(SensorFrame(frame.stamp, (small,), frame.lidars))
