"""Detectors by name (``DETECTORS``), which ground truth each is scored against, and the batches
whose sensor actually delivered data."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from perception.detections import Detector
from perception.lookup import Registry


def _classical(**_) -> Detector:
    from perception.classical import ClassicalLidarDetector  # open3d is imported only when needed

    return ClassicalLidarDetector()


def _lidar_net(**options) -> Detector:
    from perception.lidar_detector import LidarNetDetector  # torch is imported only when needed

    return LidarNetDetector(**options)


def _camera_net(**options) -> Detector:
    from perception.camera_detector import CameraNetDetector

    return CameraNetDetector(**options)


DETECTORS: Registry[Callable[..., Detector]] = Registry("detector", {
    "classical": _classical,
    "lidar": _lidar_net,
    "camera": _camera_net,
})
RUNTIMES = Registry("runtime", {"torch": "torch", "onnxruntime": "onnxruntime"})
PRECISIONS = Registry("precision", {"auto": "auto", "fp32": "fp32", "int8": "int8"})


def int8_path(weights: str | Path) -> Path:
    """Where the int8 model of a weights file lives: beside it, ``camera.pt`` -> ``camera.int8.onnx``."""
    w = Path(weights)
    return w.with_name(w.stem + ".int8.onnx")


def check_runtime(runtime: str, precision: str, device: str = "cpu", weights: str | Path | None = None
                  ) -> tuple[str, str]:
    """Valid runtime and the precision it resolves to. ``auto``: int8 on ONNX Runtime on the CPU where
    the weights have their int8 model beside them (the shipped ones do), fp32 otherwise. Explicit int8
    needs ONNX Runtime; ONNX Runtime on cuda needs its CUDA provider. ``device``: a name or a
    ``torch.device``."""
    device = str(getattr(device, "type", device))
    runtime, precision = RUNTIMES[runtime], PRECISIONS[precision]
    if precision == "auto":
        int8 = runtime == "onnxruntime" and device == "cpu" and weights is not None and int8_path(weights).exists()
        precision = "int8" if int8 else "fp32"
    if precision == "int8" and runtime != "onnxruntime":
        raise ValueError("precision 'int8' needs runtime 'onnxruntime'")
    if runtime == "onnxruntime" and device == "cuda":
        import onnxruntime

        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            raise ValueError("runtime 'onnxruntime' on device cuda needs onnxruntime-gpu (its CUDA provider); "
                             "use --set perception.runtime=torch")
    return runtime, precision


VISIBILITY = {"classical": "lidar", "lidar": "lidar", "camera": "camera"}
"""Which ground truth each detector is scored against (what its sensor can see)."""


def delivered_batches(batches, frame) -> list:
    """The detection batches whose detector's sensor delivered data in ``frame``: an absent or blank
    sensor reports nothing, not an empty scene (the tracker must not count its silence as misses)."""
    return [b for b in batches if frame.delivered(VISIBILITY.get(b.source, "lidar"))]


def make_detector(name: str, **options) -> Detector:
    """``options`` go to the networks (``weights``, ``device``, ``bf16``, ``threshold``); the classical
    detector takes none."""
    return DETECTORS[name](**options)
