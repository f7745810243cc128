"""The trained lidar network as a ``Detector``: frame in, ``Detections`` out."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from perception.lookup import Registry
from perception.bev import BevGrid, decode
from perception.detections import Detections
from perception.frames import SensorFrame, lidar_points_ego
from perception.inference import fuse_batchnorm
from perception.lidar_net import LidarCenterNet, batch_points
from perception.onnx_runtime import LidarCore, onnx_network
from perception.runtime import check_runtime

DEFAULT_WEIGHTS = Path(__file__).parent / "weights" / "lidar.pt"


DEVICES = Registry("device", {"auto": "auto", "cpu": "cpu", "cuda": "cuda"})


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(DEVICES[name])


def detections_from_output(heat_logits: torch.Tensor, reg: torch.Tensor, grid: BevGrid, stamp: float,
                           threshold: float = 0.2) -> Detections:
    heat = torch.sigmoid(heat_logits).float().cpu().numpy()
    center, size, yaw, score = decode(heat, reg.float().cpu().numpy(), grid, threshold)
    sigma = 0.15 + 0.005 * np.hypot(center[:, 0], center[:, 1])
    return Detections(stamp, "lidar", center, size, yaw, score, sigma[:, None, None] ** 2 * np.eye(2)[None])


def load_lidar_net(path: str | Path = DEFAULT_WEIGHTS, device: str = "auto") -> LidarCenterNet:
    """Weights saved by training; a missing, corrupt or mismatched file is a ValueError naming it."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        net = LidarCenterNet(BevGrid(**ckpt["grid"]))
        net.load_state_dict(ckpt["model"])
    except FileNotFoundError as exc:
        raise ValueError(f"lidar weights not found: {path}") from exc
    except (RuntimeError, KeyError, TypeError, EOFError, ValueError, pickle.UnpicklingError) as exc:
        raise ValueError(f"cannot load lidar weights {path}: {(str(exc).splitlines() or [type(exc).__name__])[0]}") from exc
    return fuse_batchnorm(net).to(resolve_device(device), memory_format=torch.channels_last)


class LidarNetDetector:
    name = "lidar"

    def __init__(self, weights: str | Path = DEFAULT_WEIGHTS, device: str = "auto", threshold: float = 0.1,
                 bf16: bool | None = None, runtime: str = "torch", precision: str = "fp32") -> None:
        self.net, self.threshold = load_lidar_net(weights, device), threshold
        self.device = next(self.net.parameters()).device
        self.bf16 = (self.device.type == "cuda") if bf16 is None else bf16
        """bf16 autocast: on by default on GPU, off on CPU (where it is slower on most processors)."""
        self.max_batch = 64 if self.device.type == "cuda" else 1
        """Frames per forward pass when callers batch (replay): on the CPU one, as a batch of 256x256
        pseudo-images runs slower per frame than single frames (86.6 vs 170 frames/s, int8)."""
        self.runtime, self.precision = check_runtime(runtime, precision, self.device, weights)
        self.core = LidarCore(self.net)
        """Backbone and heads (after the pillar encoder): torch, or an ONNX Runtime session of them."""
        if self.runtime == "onnxruntime":
            self.core = onnx_network("lidar", weights, *self.onnx_part(), self.precision, self.device.type)

    def onnx_part(self) -> tuple[torch.nn.Module, torch.Tensor]:
        """What runs on ONNX Runtime (backbone and heads) and an example input: a pseudo-image."""
        g = self.net.grid
        return LidarCore(self.net), torch.zeros((1, self.net.encoder.channels, g.size, g.size))

    def detect(self, frame: SensorFrame) -> Detections:
        return self.detect_batch([frame])[0]

    @torch.inference_mode()
    def detect_batch(self, frames: list[SensorFrame]) -> list[Detections]:
        """One forward pass for many frames (the GPU path); results in the frames' order."""
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            heat, reg = self.core(self.pseudo_image(frames))
        return [detections_from_output(heat[b, 0], reg[b], self.net.grid, f.stamp, self.threshold)
                for b, f in enumerate(frames)]

    def pseudo_image(self, frames: list[SensorFrame]) -> torch.Tensor:
        """The pillar encoder's (B, C, S, S) output for ``frames``: what ``core`` (torch or ONNX) takes."""
        clouds = [lidar_points_ego(f.lidars) for f in frames]
        return self.net.encoder(*batch_points(clouds, self.net.grid, self.device))

