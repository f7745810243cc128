"""Both detector networks on ONNX Runtime: the same outputs as torch, int8 finds the same confident
cars, and bad model files are one-line errors."""
import shutil

import numpy as np
import pytest

from perception import camera_detector, lidar_detector
from perception.camera_detector import CameraNetDetector
from perception.dataset import load_frame
from perception.lidar_detector import LidarNetDetector
from perception.runtime import int8_path
from sim.dataset.datagen import DatagenConfig, generate
from sim.sensors.rig import load_rig

pytest.importorskip("onnxruntime")
DETECTORS = {"camera": (CameraNetDetector, camera_detector.DEFAULT_WEIGHTS),
             "lidar": (LidarNetDetector, lidar_detector.DEFAULT_WEIGHTS)}


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx_frames")
    manifest = generate(DatagenConfig(("highway", "roundabout"), frames=4, seed=920_000, frames_per_episode=2),
                        load_rig(), out, backend=1)
    return [load_frame(out / r["path"]) for r in manifest["frames"]]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DRIVESTACK_CACHE", str(tmp_path / "cache"))


def _near(a, b, tol_m):
    """Every confident box of ``a`` has a box of ``b`` within ``tol_m`` [m]."""
    return all(len(b) and np.hypot(*(b.center_m[:, :2] - c[:2]).T).min() < tol_m for c in a.center_m[a.score > 0.5])


@pytest.mark.parametrize("name", ["camera", "lidar"])
def test_onnxruntime_fp32_gives_the_torch_outputs(name, frames, tmp_path):
    cls, weights = DETECTORS[name]
    torch_out = cls(weights, device="cpu").detect_batch(frames)
    ort_det = cls(weights, device="cpu", runtime="onnxruntime")
    assert any((tmp_path / "cache" / "onnx").glob(f"{name}-*.onnx"))  # exported into the cache on first use
    for a, b in zip(torch_out, ort_det.detect_batch(frames)):
        assert len(a) == len(b)  # stated tolerance: scores 1e-4, centres 1 mm
        assert np.allclose(a.score, b.score, atol=1e-4) and np.allclose(a.center_m, b.center_m, atol=1e-3)
    assert sum(len(d) for d in torch_out) > 0


@pytest.mark.parametrize("name", ["camera", "lidar"])
def test_shipped_int8_model_finds_the_same_confident_cars(name, frames):
    cls, weights = DETECTORS[name]
    fp32 = cls(weights, device="cpu").detect_batch(frames)
    int8 = cls(weights, device="cpu", runtime="onnxruntime", precision="int8").detect_batch(frames)
    assert sum(int((d.score > 0.5).sum()) for d in fp32) >= 3
    for a, b in zip(fp32, int8):  # int8 moves boxes by quantization steps: within 0.5 m + 5 % of range
        assert _near(a, b, 0.5 + 0.05 * 50) and _near(b, a, 0.5 + 0.05 * 50)


def test_int8_needs_onnxruntime_and_a_model_beside_the_weights(tmp_path):
    with pytest.raises(ValueError, match="needs runtime 'onnxruntime'"):
        CameraNetDetector(device="cpu", precision="int8")
    w = tmp_path / "camera.pt"
    shutil.copy(camera_detector.DEFAULT_WEIGHTS, w)
    with pytest.raises(ValueError, match="no int8 model .*export-onnx"):
        CameraNetDetector(w, device="cpu", runtime="onnxruntime", precision="int8")


@pytest.mark.parametrize("content", [b"not an onnx model", b""])
def test_corrupt_onnx_file_is_one_line_error(tmp_path, content):
    w = tmp_path / "lidar.pt"
    shutil.copy(lidar_detector.DEFAULT_WEIGHTS, w)
    int8_path(w).write_bytes(content)
    with pytest.raises(ValueError, match=r"cannot load ONNX model .*lidar.int8.onnx") as err:
        LidarNetDetector(w, device="cpu", runtime="onnxruntime", precision="int8")
    assert "\n" not in str(err.value)


def test_mismatched_onnx_model_is_refused(tmp_path):
    w = tmp_path / "camera.pt"
    shutil.copy(camera_detector.DEFAULT_WEIGHTS, w)
    shutil.copy(int8_path(lidar_detector.DEFAULT_WEIGHTS), int8_path(w))  # a lidar model beside camera weights
    with pytest.raises(ValueError, match="takes input .* this detector gives"):
        CameraNetDetector(w, device="cpu", runtime="onnxruntime", precision="int8")


def test_unknown_runtime_is_refused():
    with pytest.raises(ValueError, match="runtime"):
        LidarNetDetector(device="cpu", runtime="tensorrt")


def test_auto_precision_is_int8_only_where_an_int8_model_sits_beside_the_weights(tmp_path):
    shipped = LidarNetDetector(device="cpu", runtime="onnxruntime", precision="auto")
    assert (shipped.runtime, shipped.precision) == ("onnxruntime", "int8")
    assert LidarNetDetector(device="cpu", runtime="torch", precision="auto").precision == "fp32"
    w = tmp_path / "lidar.pt"
    shutil.copy(lidar_detector.DEFAULT_WEIGHTS, w)  # retrained weights, not yet quantized
    assert LidarNetDetector(w, device="cpu", runtime="onnxruntime", precision="auto").precision == "fp32"


def test_unwritable_cache_is_one_line_error_naming_the_setting(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should go")
    monkeypatch.setenv("DRIVESTACK_CACHE", str(blocker))
    with pytest.raises(ValueError, match="cannot write the ONNX cache .*DRIVESTACK_CACHE") as err:
        CameraNetDetector(device="cpu", runtime="onnxruntime", precision="fp32")
    assert "\n" not in str(err.value)
