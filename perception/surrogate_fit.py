"""Fit the surrogate detectors' error models from the real detectors' output on a labelled split."""
from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from perception.dataset import load_frame, read_manifest
from perception.registry import make_detector
from perception.surrogate import SensorErrorModel, fit_sensor_model


def fit_surrogate(data: Path, split: str, detectors: tuple[str, ...], score_threshold: float,
                  max_frames: int | None = None) -> dict[str, SensorErrorModel]:
    rows = [f for f in read_manifest(data)["frames"] if f["split"] == split][:max_frames]
    if not rows:
        raise ValueError(f"no '{split}' frames in {data}")
    nets = {name: make_detector(name) for name in detectors}
    pairs: dict[str, list] = {name: [] for name in detectors}
    camera = None
    for row in tqdm(rows, desc="fit surrogate", unit="frame", dynamic_ncols=True):
        frame = load_frame(Path(data) / row["path"])
        camera = camera or (frame.cameras[0].calibration if frame.cameras else None)
        for name, net in nets.items():
            pairs[name].append((net.detect(frame), frame.labels))
    return {name: fit_sensor_model(p, name, camera if name == "camera" else None, score_threshold)
            for name, p in pairs.items()}
