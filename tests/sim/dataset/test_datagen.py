"""Data generation: frames on disk, manifest, split by episode seed, determinism, bad files."""
import numpy as np
import pytest

from perception.dataset import load_frame, read_manifest
from sim.dataset.datagen import DatagenConfig, generate, plan_episodes, split_of
from sim.sensors.rig import load_rig


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("data")
    cfg = DatagenConfig(("highway", "merge"), frames=6, seed=7, frames_per_episode=3)
    return out, generate(cfg, load_rig(), out, backend=1)


def test_manifest_lists_every_frame_and_frames_load(dataset):
    out, manifest = dataset
    assert len(manifest["frames"]) == 6 and sum(manifest["counts"].values()) == 6
    for row in manifest["frames"]:
        frame = load_frame(out / row["path"])
        assert frame.cameras[0].rgb.shape == (160, 320, 3) and frame.lidars[0].points.shape[1] == 5
        assert len(frame.labels) == row["n_boxes"] and frame.labels.visible_fraction.shape == (row["n_boxes"], 1)
        uv, depth = frame.cameras[0].calibration.project(np.array([[30.0, 0.0, 1.0]]))
        assert depth[0] > 0  # calibration survives the round trip to disk
    assert read_manifest(out)["counts"] == manifest["counts"]


def test_an_episode_never_spans_two_splits(dataset):
    _, manifest = dataset
    by_seed = {}
    for row in manifest["frames"]:
        by_seed.setdefault(row["seed"], set()).add(row["split"])
    assert all(len(s) == 1 for s in by_seed.values()) and len(by_seed) == 2


def test_split_is_a_function_of_the_seed_with_the_requested_fractions():
    splits = [split_of(s, (0.8, 0.1, 0.1)) for s in range(2000)]
    assert splits == [split_of(s, (0.8, 0.1, 0.1)) for s in range(2000)]
    assert abs(splits.count("train") / 2000 - 0.8) < 0.04 and abs(splits.count("test") / 2000 - 0.1) < 0.03


def test_same_seed_same_frames(dataset, tmp_path):
    out, manifest = dataset
    cfg = DatagenConfig(("highway", "merge"), frames=3, seed=7, frames_per_episode=3)
    again = generate(cfg, load_rig(), tmp_path, backend=1)
    a, b = load_frame(out / manifest["frames"][0]["path"]), load_frame(tmp_path / again["frames"][0]["path"])
    assert np.array_equal(a.lidars[0].points, b.lidars[0].points) and np.array_equal(a.cameras[0].rgb, b.cameras[0].rgb)


def test_episode_plan_mixes_scenarios_density_and_noise():
    eps = plan_episodes(DatagenConfig(("highway", "roundabout"), frames=200, seed=1, frames_per_episode=10))
    assert {e.scenario for e in eps} == {"highway", "roundabout"} and sum(e.n_frames for e in eps) == 200
    assert {e.noisy for e in eps} == {True, False}
    dens = [e.density for e in eps if e.scenario == "highway"]
    assert len(set(dens)) == len(dens) and all(0.7 <= d <= 1.6 for d in dens)


def test_bad_files_give_clear_errors(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a numpy archive")
    with pytest.raises(ValueError, match="cannot read sensor frame"):
        load_frame(bad)
    with pytest.raises(ValueError, match="not a drivestack data set"):
        read_manifest(tmp_path)
