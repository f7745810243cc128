"""The trained camera network as a ``Detector``: each camera image in, ``Detections`` out.

Box-centre covariance: along the viewing ray from the network's own depth uncertainty (Laplace
scale b of log depth: sigma_range = depth * sqrt(2) * b * k), across it proportional to depth
(sigma_lateral = c * depth + 0.05 m); k and c are fitted on validation data after training and stored
with the weights.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from perception.calibration import CameraCalibration
from perception.camera_net import CameraCenterNet
from perception.inference import fuse_batchnorm
from perception.camera_targets import CameraInput, decode_image
from perception.detections import Detections, ray_covariance
from perception.frames import BoxLabels, SensorFrame, has_signal
from perception.lidar_detector import resolve_device
from perception.onnx_runtime import onnx_network
from perception.runtime import check_runtime

DEFAULT_WEIGHTS = Path(__file__).parent / "weights" / "camera.pt"


@dataclass(frozen=True)
class CovarianceModel:
    depth_scale: float = 1.0
    """k: multiplies the network's depth-error scale."""
    lateral_per_m: float = 0.01
    """c: cross-ray standard deviation per metre of depth."""

    def covariance(self, center_m: np.ndarray, depth_m: np.ndarray, log_b: np.ndarray) -> np.ndarray:
        """(N, 2, 2) ego-frame x, y covariance, long along each box's viewing ray."""
        s_r = depth_m * np.sqrt(2.0) * np.exp(log_b) * self.depth_scale
        s_l = self.lateral_per_m * depth_m + 0.05
        return ray_covariance(np.arctan2(center_m[:, 1], center_m[:, 0]), s_r, s_l)


def _matches(boxes: dict, labels: BoxLabels, max_match_m: float):
    """(detection index, label index) of each confident detection (score >= 0.3) and the nearest
    label within ``max_match_m`` of it."""
    if not len(labels):
        return
    for k in np.flatnonzero(boxes["score"] >= 0.3):
        d = np.hypot(*(labels.center_m[:, :2] - boxes["center_m"][k, :2]).T)
        if d.min() < max_match_m:
            yield int(k), int(np.argmin(d))


def fit_covariance(pairs: list[tuple[dict, BoxLabels]], max_match_m: float = 4.0) -> CovarianceModel:
    """k and c from decoded detections (with ``log_b``) matched to the nearest label within ``max_match_m``."""
    ratio_r, ratio_l = [], []
    for boxes, labels in pairs:
        for k, j in _matches(boxes, labels, max_match_m):
            c = boxes["center_m"][k, :2]
            err = labels.center_m[j, :2] - c
            ray = c / max(np.linalg.norm(c), 1e-6)
            depth = boxes["depth_m"][k]
            ratio_r.append(err @ ray / (depth * np.sqrt(2.0) * np.exp(boxes["log_b"][k])))
            ratio_l.append((err[0] * -ray[1] + err[1] * ray[0]) / depth)
    if len(ratio_r) < 10:
        return CovarianceModel()
    return CovarianceModel(float(np.sqrt(np.mean(np.square(ratio_r)))), float(np.sqrt(np.mean(np.square(ratio_l)))))


def fit_depth_gain(pairs: list[tuple[dict, BoxLabels, CameraCalibration]], max_match_m: float = 4.0) -> float:
    """Median ratio of true to decoded optical depth over confident detections matched to the nearest
    label within ``max_match_m`` (1.0 with fewer than 10 matches)."""
    ratios = []
    for boxes, labels, cal in pairs:
        true_depth = cal.project(labels.center_m)[1] if len(labels) else None
        ratios += [true_depth[j] / boxes["depth_m"][k] for k, j in _matches(boxes, labels, max_match_m)]
    return float(np.median(ratios)) if len(ratios) >= 10 else 1.0


def decode_output(heat_logits: torch.Tensor, reg: torch.Tensor, cal: CameraCalibration, geo: CameraInput,
                  threshold: float, depth_gain: float = 1.0) -> dict[str, np.ndarray]:
    """One image's network output -> decoded boxes plus the log depth-error scale of each."""
    reg_np = reg.float().cpu().numpy()
    boxes = decode_image(torch.sigmoid(heat_logits).float().cpu().numpy(), reg_np[:-1], cal, geo, threshold,
                         depth_gain=depth_gain)
    boxes["log_b"] = np.clip(reg_np[-1].ravel()[boxes["cell"]], -6.0, 2.0)
    return boxes


def load_camera_net(path: str | Path = DEFAULT_WEIGHTS, device: str = "auto"
                    ) -> tuple[CameraCenterNet, CovarianceModel, float]:
    """Network (for inference: BatchNorm folded into the convolutions, channels-last), covariance
    model and depth gain saved by training; a missing, corrupt or mismatched file is a ValueError
    naming it."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        net = CameraCenterNet(CameraInput(**ckpt["input"]))
        net.load_state_dict(ckpt["model"])
        cov = CovarianceModel(**ckpt.get("covariance", {}))
        gain = float(ckpt.get("depth_gain", 1.0))
    except FileNotFoundError as exc:
        raise ValueError(f"camera weights not found: {path}") from exc
    except (RuntimeError, KeyError, TypeError, EOFError, ValueError, pickle.UnpicklingError) as exc:
        raise ValueError(f"cannot load camera weights {path}: {(str(exc).splitlines() or [type(exc).__name__])[0]}") from exc
    return fuse_batchnorm(net).to(resolve_device(device), memory_format=torch.channels_last), cov, gain


class CameraNetDetector:
    """Runs on every camera image of a frame; a dropped camera or a blank image gives no boxes, a
    wrong image shape is a ValueError naming the camera."""

    name = "camera"
    max_batch = 32
    """Frames per forward pass when callers batch (replay): images batch well on CPU and GPU."""

    def __init__(self, weights: str | Path = DEFAULT_WEIGHTS, device: str = "auto", threshold: float = 0.1,
                 bf16: bool | None = None, runtime: str = "torch", precision: str = "fp32") -> None:
        (self.net, self.cov, self.depth_gain), self.threshold = load_camera_net(weights, device), threshold
        self.device = next(self.net.parameters()).device
        self.bf16 = (self.device.type == "cuda") if bf16 is None else bf16
        """bf16 autocast: on by default on GPU, off on CPU."""
        self.runtime, self.precision = check_runtime(runtime, precision, self.device, weights)
        self.forward = self.net
        """The network call: torch, or an ONNX Runtime session of the same weights."""
        if self.runtime == "onnxruntime":
            self.forward = onnx_network("camera", weights, *self.onnx_part(), self.precision, self.device.type)

    def onnx_part(self) -> tuple[torch.nn.Module, torch.Tensor]:
        """What runs on ONNX Runtime (the whole network) and an example input: a uint8 image crop."""
        geo = self.net.geo
        return self.net, torch.zeros((1, geo.crop_bottom_px - geo.crop_top_px, geo.width_px, 3), dtype=torch.uint8)

    def detect(self, frame: SensorFrame) -> Detections:
        return self.detect_batch([frame])[0]

    @torch.inference_mode()
    def detect_batch(self, frames: list[SensorFrame]) -> list[Detections]:
        """One forward pass over every camera image of every frame; results in the frames' order."""
        geo = self.net.geo
        for f in frames:
            for cam in f.cameras:
                if cam.rgb.shape != (geo.height_px, geo.width_px, 3):
                    raise ValueError(f"camera '{cam.calibration.name}' image is {cam.rgb.shape}; "
                                     f"the network expects ({geo.height_px}, {geo.width_px}, 3)")
        jobs = [(b, cam) for b, f in enumerate(frames) for cam in f.cameras if has_signal(cam.rgb)]
        per_frame: list[list[dict]] = [[] for _ in frames]
        if jobs:
            images = torch.from_numpy(np.stack([geo.crop(cam.rgb) for _, cam in jobs])).to(self.device)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                heat, reg = self.forward(images)
            for i, (b, cam) in enumerate(jobs):
                per_frame[b].append(decode_output(heat[i, 0], reg[i], cam.calibration, geo, self.threshold,
                                                  self.depth_gain))
        return [self._detections(boxes, f.stamp) for boxes, f in zip(per_frame, frames)]

    def _detections(self, boxes: list[dict], stamp: float) -> Detections:
        if not boxes:
            return Detections.empty(stamp, self.name)
        cat = {k: np.concatenate([b[k] for b in boxes]) for k in ("center_m", "size_m", "yaw_rad", "score", "depth_m", "log_b")}
        cov = self.cov.covariance(cat["center_m"], cat["depth_m"], cat["log_b"])
        return Detections(stamp, self.name, cat["center_m"], cat["size_m"], cat["yaw_rad"], cat["score"], cov)
