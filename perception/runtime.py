"""Inference runtimes and precisions of the detector networks by name, and where a weights file's
int8 model lives. No torch or onnxruntime import at module level: the CLI validates settings before
any network loads."""
from __future__ import annotations

from pathlib import Path

from perception.lookup import Registry

NETWORKS = ("lidar", "camera")
"""The detectors that are networks: they take a runtime and a precision (the classical one ignores them)."""
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
