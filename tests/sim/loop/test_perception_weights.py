"""``perception.lidar_weights`` / ``perception.camera_weights``: the world model loads the weights named."""
import pytest

from sim.loop.setup import load_perception_config
from sim.loop.world_sources import configured_detectors
from sim.logs.provenance import SHIPPED_WEIGHTS


def test_the_named_weights_are_loaded_and_a_missing_file_is_named(tmp_path):
    cfg = load_perception_config([f"camera_weights={SHIPPED_WEIGHTS['camera']}", "runtime=torch", "detectors=[camera]"])
    assert cfg.camera_weights == str(SHIPPED_WEIGHTS["camera"]) and cfg.lidar_weights == ""
    assert set(configured_detectors(cfg)) == {"camera"}
    bad = load_perception_config([f"lidar_weights={tmp_path / 'none.pt'}", "runtime=torch", "detectors=[lidar]"])
    with pytest.raises(ValueError, match="none.pt"):
        configured_detectors(bad)
