"""The bad-input catalogue: every way a user can get an input wrong, run through the real CLI entry
point in-process. Each must end with exit code 2, exactly one line on stderr that names the
offending input, and no traceback, before any episode runs."""
import json
import shutil
from pathlib import Path

import pytest

from sim.cli.main import main

NO_RUN = ["--set", "scenario.duration_s=1"]
"""Appended to commands that would otherwise run: if validation failed to stop them they stay short."""

CLI_CASES = [
    # choices and numbers on the command line
    (["simulate", "--scenario", "moon"], "'moon'"),
    (["simulate", "--planner", "magic"], "'magic'"),
    (["simulate", "--world-model", "oracle"], "'oracle'"),
    (["simulate", "--episodes", "0"], "--episodes"),
    (["simulate", "--episodes", "-1"], "--episodes"),
    (["simulate", "--workers", "0"], "--workers"),
    (["simulate", "--seed", "-1"], "seed -1"),
    (["simulate", "--seed", "abc"], "'abc'"),
    (["simulate", "--seed", "99999999999"], "99999999999"),
    (["simulate", "--rig", "nope"], "'nope'"),
    (["simulate", "--policy", "x.zip"], "--policy x.zip"),
    (["simulate", "--rig", "default"], "--rig default"),  # the ground-truth world model renders no sensor
    (["simulate", "--rig", "default", "--video", "{tmp}/v.mp4", "--no-camera-view"], "--rig default"),
    (["simulate", "--frobnicate"], "--frobnicate"),
    (["simulate", "--backend", "moon"], "'moon'"),
    (["simulate", "--address", "head:6379"], "--address head:6379"),
    (["evaluate-tracking", "--backend", "ray", "--workers", "0"], "--workers"),
    (["tune", "--config", "{tmp}/missing.yaml"], "missing.yaml"),
    (["tune", "--timesteps", "0"], "--timesteps"),
    (["evaluate", "--suite", "nope"], "'nope'"),
    (["evaluate", "--seeds", "5:5"], "'5:5'"),
    (["evaluate", "--seeds", "a:b"], "'a:b'"),
    (["evaluate", "--seeds=-3:2"], "'-3:2'"),
    (["evaluate", "--scenarios", "highway,moon"], "'moon'"),
    (["evaluate", "--planners", "rule,magic"], "'magic'"),
    (["evaluate", "--suite", "quick", "--policy", "x.zip"], "--policy x.zip"),
    (["evaluate", "--episodes", "0"], "--episodes"),
    (["evaluate", "--seed", "-5"], "seed -5"),
    (["datagen", "--scenarios", "highway,moon", "--out", "{tmp}/d"], "'moon'"),
    (["datagen", "--frames", "0", "--out", "{tmp}/d"], "--frames"),
    (["datagen", "--frames-per-episode", "0", "--out", "{tmp}/d"], "--frames-per-episode"),
    (["train", "--model", "policy", "--world-model", "foo"], "'foo'"),
    (["train", "--model", "lidar"], "--data"),
    (["train", "--model", "nope"], "'nope'"),
    (["train", "--model", "lidar", "--data", "{tmp}", "--labels", "pseudo"], "--model camera"),
    (["train", "--model", "camera", "--data", "{tmp}", "--labels", "pseudo"], "--val-data"),
    (["train", "--model", "camera", "--data", "{tmp}", "--labels", "pseudo", "--val-data", "{tmp}",
      "--teacher", "{tmp}/no.pt"], "no.pt"),
    (["train", "--model", "camera", "--data", "{tmp}", "--score-threshold", "1.5"], "--score-threshold"),
    (["train", "--model", "camera", "--data", "{tmp}", "--student", "{tmp}/s.pt"], "--labels pseudo"),
    (["train", "--model", "camera", "--data", "{tmp}", "--labels", "pseudo", "--val-data", "{tmp}",
      "--student", "{tmp}/s.pt"], "s.pt"),
    (["train", "--model", "camera", "--data", "{tmp}", "--student-threshold", "2"], "--student-threshold"),
    (["train", "--model", "lidar", "--data", "{tmp}", "--federated", "--clients", "0"], "--clients"),
    (["train", "--model", "lidar", "--data", "{tmp}", "--federated", "--local-epochs", "0"], "--local-epochs"),
    (["train", "--model", "lidar", "--data", "{tmp}", "--federated", "--server-lr", "0"], "--server-lr"),
    (["train", "--model", "lidar", "--data", "{tmp}", "--federated", "--proximal-mu", "-1"], "--proximal-mu"),
    (["train", "--model", "lidar", "--data", "{tmp}", "--federated", "--strategy", "fedsgd"], "'fedsgd'"),
    (["train", "--model", "lidar", "--data", "{tmp}/none", "--epochs", "0"], "--epochs"),
    (["bench", "--repeats", "0"], "--repeats"),
    (["bench-tracker", "--vehicles", "0"], "--vehicles"),
    (["evaluate-tracking", "--preset", "nope"], "'nope'"),
    (["evaluate-perception", "--model", "nope", "--data", "{tmp}"], "'nope'"),
    (["evaluate-perception", "--model", "classical", "--runtime", "onnxruntime", "--data", "{tmp}"], "'classical'"),
    (["evaluate-perception", "--model", "lidar", "--runtime", "torch", "--precision", "int8", "--data", "{tmp}"], "int8"),
    (["export-onnx", "--model", "camera", "--int8"], "--data"),
    (["export-onnx", "--model", "camera", "--frames", "0"], "--frames"),
    (["export-onnx", "--model", "lidar", "--weights", "{file}"], "{file}"),
    (["simulate", "--set", "perception.runtime=tensorrt"], "'tensorrt'"),
    (["simulate", "--set", "perception.precision=int8", "--set", "perception.runtime=torch"], "int8"),
    (["simulate", "--set", "perception.device=cuda"], "onnxruntime-gpu"),
    (["render-sensors", "--ticks", "0", "--out", "{tmp}/s"], "--ticks"),
    # output paths, checked before any work
    (["simulate", "--json", "out.txt"], "'out.txt'"),
    (["simulate", "--json", "{tmp}"], "{tmp}"),
    (["simulate", "--json", "{file}/x.json"], "{file}"),
    (["simulate", "--video", "v.txt"], "'v.txt'"),
    (["simulate", "--video", "{file}/v.mp4"], "{file}"),
    (["simulate", "--record", "r.mp4"], "'r.mp4'"),
    (["evaluate", "--json", "{file}/e.json"], "{file}"),
    (["datagen", "--out", "{file}/d"], "{file}"),
    (["train", "--model", "lidar", "--data", "{tmp}", "--out", "{file}/run"], "{file}"),
    (["replay", "{tmp}/a.mcap", "--out", "new.txt"], "'new.txt'"),
    # --set: keys, types and ranges of every section
    (["simulate", "--set", "planner.bogus=1"], "planner.bogus"),
    (["simulate", "--set", "planner.horizon_s=fast"], "planner.horizon_s"),
    (["simulate", "--set", "planner.horizon_s=-3"], "planner.horizon_s"),
    (["simulate", "--set", "planner.horizon_s=0"], "planner.horizon_s"),
    (["simulate", "--set", "planner.dt_s=0"], "planner.dt_s"),
    (["simulate", "--set", "planner.speed_factors=[]"], "planner.speed_factors"),
    (["simulate", "--set", "planner.speed_factors=[1.0,-1]"], "planner.speed_factors"),
    (["simulate", "--set", "planner.hysteresis=2"], "planner.hysteresis"),
    (["simulate", "--set", "planner.idm.nope=1"], "planner.idm.nope"),
    (["simulate", "--set", "planner.horizon_s"], "planner.horizon_s"),
    (["simulate", "--set", "planner.horizon_s=["], "horizon_s"),
    (["simulate", "--set", "moon.horizon_s=3"], "moon.horizon_s"),
    (["simulate", "--set", "controller.bogus=1"], "controller.bogus"),
    (["simulate", "--set", "perception.score_threshold=abc"], "perception.score_threshold"),
    (["simulate", "--set", "scenario.env.vehicles_count=2.5"], "scenario.env.vehicles_count"),
    (["simulate", "--set", "scenario.env.lanes_count=abc"], "scenario.env.lanes_count"),
    (["simulate", "--set", "scenario.env.nope=1"], "scenario.env.nope"),
    (["simulate", "--set", "scenario.env_id=a:b:c"], "'a:b:c'"),
    (["simulate", "--set", "scenario.env_id=moon-v0"], "'moon-v0'"),
    (["simulate", "--set", "scenario.env_id=sim.highway.envs:moon-v0"], "'sim.highway.envs:moon-v0'"),
    (["simulate", "--set", "scenario.env.vehicles_count=-5"], "scenario.env.vehicles_count"),
    (["simulate", "--set", "scenario.env.lanes_count=0"], "scenario.env.lanes_count"),
    (["simulate", "--set", "scenario.env.duration=3"], "scenario.duration_s"),
    (["simulate", "--set", "scenario.env.centering_position=[0.3]"], "scenario.env.centering_position"),
    (["simulate", "--set", "scenario.duration_s=-1"], "scenario.duration_s"),
    (["simulate", "--set", "scenario.seed=-1"], "scenario.seed"),
    (["simulate", "--set", "scenario.policy_frequency_hz=0"], "policy_frequency_hz"),
    (["simulate", "--world-model", "perception", "--set", "sensors.faults.camera_blackout_s=[5,1]"],
     "sensors.faults.camera_blackout_s"),
    (["simulate", "--world-model", "perception", "--set", "sensors.faults.drop_probability=2"],
     "sensors.faults.drop_probability"),
    (["simulate", "--world-model", "perception", "--set", "sensors.faults.latency_ticks=-1"],
     "sensors.faults.latency_ticks"),
    # files that are missing, empty or of the wrong kind
    (["evaluate-perception", "--data", "{tmp}/none"], "{tmp}/none"),
    (["replay", "{tmp}/missing.mcap"], "missing.mcap"),
    (["log", "info", "{tmp}/missing.mcap"], "missing.mcap"),
    (["log", "info", "{file}"], "{file}"),
    (["replay", "{file}"], "{file}"),
    (["simulate", "--planner", "rl", "--policy", "{file}"], "{file}"),
    (["simulate", "--planner", "rl", "--policy", "{tmp}/missing.zip"], "missing.zip"),
    (["simulate", "--scenario", "{file}.yaml"], ".yaml"),
]


@pytest.fixture
def places(tmp_path):
    """{tmp}: an empty directory; {file}: a plain text file (where a directory or log is wanted)."""
    text = tmp_path / "notes"
    text.write_text("not what you think\n")
    (tmp_path / "notes.yaml").write_text("name: [unclosed\n")
    return {"tmp": str(tmp_path), "file": str(text)}


def _run(argv: list[str], capsys) -> tuple[int, list[str]]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    err = capsys.readouterr().err.replace("\r", "\n")
    return code, [line for line in err.splitlines() if line.strip() and not _progress(line)]


def _progress(line: str) -> bool:
    return "|" in line and ("it/s" in line or "ep/s" in line or "s/it" in line or "s/ep" in line or "%" in line)


def _check(argv: list[str], needle: str, capsys) -> None:
    code, lines = _run(argv, capsys)
    assert code == 2, f"exit {code} for {argv}: {lines}"
    assert len(lines) == 1, f"{argv}: {lines}"
    assert "Traceback" not in lines[0] and lines[0].startswith("drivestack: error:"), lines
    assert needle in lines[0], f"{needle!r} not named in {lines[0]!r}"


@pytest.mark.parametrize("argv,needle", CLI_CASES, ids=[" ".join(a)[:60] for a, _ in CLI_CASES])
def test_bad_input_is_one_line_and_exit_2(argv, needle, places, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    fill = lambda s: s.format(**places)  # noqa: E731
    argv = [fill(a) for a in argv]
    if argv[0] in ("simulate", "evaluate") and "--set" not in argv:
        argv += NO_RUN
    _check(argv, fill(needle), capsys)


def _damaged_data(src: Path, dst: Path, damage) -> Path:
    shutil.copytree(src, dst)
    manifest = json.loads((dst / "manifest.json").read_text())
    damage(dst, manifest)
    return dst


def _truncate_frames(root: Path, manifest: dict) -> None:
    for row in manifest["frames"]:
        path = root / row["path"]
        path.write_bytes(path.read_bytes()[:100])


def _foreign_frames(root: Path, manifest: dict) -> None:
    import numpy as np

    for row in manifest["frames"]:
        np.savez(root / row["path"], something_else=np.zeros(3))


def _lost_frames(root: Path, manifest: dict) -> None:
    for row in manifest["frames"]:
        (root / row["path"]).unlink()


@pytest.mark.parametrize("damage", [_truncate_frames, _foreign_frames, _lost_frames])
@pytest.mark.parametrize("split", ["val", "train"])
def test_damaged_data_sets_name_the_file(damage, split, tiny_data, tmp_path, capsys):
    data = _damaged_data(tiny_data, tmp_path / "data", damage)
    _check(["evaluate-perception", "--model", "classical", "--data", str(data), "--split", split], str(data), capsys)


@pytest.mark.parametrize("content", [b"", b"plain text, not a network", b"PK\x03\x04 truncated zip"])
@pytest.mark.parametrize("model", ["lidar", "camera"])
def test_bad_weight_files_name_the_file(content, model, tiny_data, tmp_path, capsys):
    weights = tmp_path / f"{model}.pt"
    weights.write_bytes(content)
    _check(["bench-perception", "--model", model, "--data", str(tiny_data), "--frames", "1", "--repeats", "1",
            "--weights", str(weights)], str(weights), capsys)


def test_weights_of_the_other_network_are_refused(tiny_data, capsys):
    camera = Path(__file__).resolve().parents[3] / "perception" / "weights" / "camera.pt"
    _check(["bench-perception", "--model", "lidar", "--data", str(tiny_data), "--frames", "1", "--repeats", "1",
            "--weights", str(camera)], "camera.pt", capsys)


def test_the_catalogue_is_large():
    assert len(CLI_CASES) + 6 + 6 + 1 >= 60
