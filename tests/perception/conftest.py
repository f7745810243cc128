"""A tiny data set shared by the training smoke tests (train and val splits both present)."""
import json

import pytest

from sim.datagen import DatagenConfig, generate
from sim.sensors.rig import load_rig


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny_data")
    generate(DatagenConfig(("highway",), frames=4, seed=3, frames_per_episode=2), load_rig(), out, workers=1)
    m = json.loads((out / "manifest.json").read_text())
    for i, row in enumerate(m["frames"]):  # one val frame, the rest train, whatever the seed split said
        row["split"] = "val" if i == 0 else "train"
    (out / "manifest.json").write_text(json.dumps(m))
    return out
