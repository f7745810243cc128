"""``drivestack export-onnx``: a detector's weights -> its fp32 ONNX model (into the cache) and, with
calibration frames, the static int8 QDQ model beside the weights."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from perception.dataset import load_frame, read_manifest
from perception.frames import SensorFrame, has_signal
from perception.onnx_runtime import cached_fp32, quantize_int8
from perception.runtime import int8_path
from perception.registry import make_detector


@torch.inference_mode()
def network_inputs(det, frame: SensorFrame) -> list[np.ndarray]:
    """What the ONNX part of ``det`` sees for ``frame``: camera crops (1, H, W, 3) uint8 of each
    delivered image, or the lidar pseudo-image (1, C, S, S)."""
    if det.name == "camera":
        return [det.net.geo.crop(c.rgb)[None] for c in frame.cameras if has_signal(c.rgb)]
    return [np.ascontiguousarray(det.pseudo_image([frame]).float().cpu().numpy())]


def calibration_batches(det, data: Path, split: str, frames: int) -> list[np.ndarray]:
    rows = [r for r in read_manifest(data)["frames"] if r["split"] == split][:frames]
    if not rows:
        raise ValueError(f"no '{split}' frames in {data} to calibrate int8 on")
    out = []
    for row in tqdm(rows, desc=f"calibrate {det.name}", unit="frame", dynamic_ncols=True):
        out += network_inputs(det, load_frame(Path(data) / row["path"]))
    return out


def export_onnx(model: str, weights: Path, data: Path | None, split: str = "val", frames: int = 64,
                int8: bool = False) -> dict[str, Path]:
    """fp32 model into the cache; with ``int8``, the calibrated int8 model beside ``weights``."""
    if int8 and data is None:
        raise ValueError("--int8 needs --data DIR (calibration frames from a datagen directory)")
    det = make_detector(model, weights=weights, device="cpu")
    paths = {"fp32": cached_fp32(model, weights, *det.onnx_part())}
    if int8:
        paths["int8"] = quantize_int8(paths["fp32"], int8_path(weights), calibration_batches(det, data, split, frames))
    return paths

