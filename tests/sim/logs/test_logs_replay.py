"""Replaying a recorded log: the same weights reproduce the recorded outputs exactly, other weights
show up as metric differences and fail ``--compare``, and replays are deterministic."""
import pytest
import torch
from conftest import record_log

from sim.cli.main import main
from sim.bench.replay import format_replay_bench, run_replay_bench
from sim.logs.record import LogRecorder
from sim.logs.replay import replay_log
from sim.logs.replay_config import ReplayOptions
from sim.loop.runner import run_episode
from sim.loop.setup import build_setup

QUIET = ReplayOptions(progress=False)


@pytest.fixture(scope="module")
def log_path(tmp_path_factory):
    return record_log(tmp_path_factory.mktemp("replay") / "run.mcap", "perception", 2, seed=7)


@pytest.fixture(scope="module")
def perturbed_lidar(tmp_path_factory):
    """The shipped lidar weights with seeded noise (30 % of each weight tensor's spread) on every layer."""
    from sim.logs.provenance import SHIPPED_WEIGHTS

    ckpt = torch.load(SHIPPED_WEIGHTS["lidar"], map_location="cpu", weights_only=True)
    gen = torch.Generator().manual_seed(0)
    for key, w in ckpt["model"].items():
        if key.endswith("weight") and w.dim() >= 2:
            ckpt["model"][key] = w + 0.3 * w.std() * torch.randn(w.shape, generator=gen)
    path = tmp_path_factory.mktemp("weights") / "lidar_perturbed.pt"
    torch.save(ckpt, path)
    return path


def _run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_same_weights_reproduce_the_recording(log_path, capsys, tmp_path):
    out_log = tmp_path / "new.mcap"
    code, out, err = _run(capsys, "replay", log_path, "--compare", "--out", out_log)
    assert code == 0, err
    assert "same weights as recorded" in out and "20 ticks, 0 diverged" in out and "-> PASS" in out
    assert "max difference detections 0, tracks 0, plan 0" in out
    assert "mean 0.000 m, max 0.000 m (20 ticks)" in out                 # planner divergence
    difference_rows = [l.split()[1:] for l in out.splitlines() if l.split()[:1] == ["difference"]]
    assert len(difference_rows) == 3 and all(set(v) <= {"+0.000", "+0"} for v in difference_rows)
    code, out2, _ = _run(capsys, "replay", out_log, "--compare")         # the --out log is itself a faithful log
    assert code == 0 and "-> PASS" in out2


def test_other_weights_show_the_metric_difference_and_fail_compare(log_path, perturbed_lidar, capsys):
    result = replay_log(log_path, ReplayOptions(weights={"lidar": str(perturbed_lidar)}, compare=True, progress=False))
    lidar = result.scores["detection"]["lidar"]
    assert lidar["replay"]["ap"] != lidar["recorded"]["ap"]
    assert result.scores["detection"]["camera"]["replay"] == result.scores["detection"]["camera"]["recorded"]
    assert not result.comparison["passed"] and result.comparison["max_difference"]["detections"] > 1e-3
    code, out, _ = _run(capsys, "replay", log_path, "--compare", "--weights-lidar", perturbed_lidar)
    assert code == 1 and "other weights than recorded" in out and "-> FAIL" in out
    assert "first divergence at t = 0.00 s" in out
    diff = next(l for l in out.splitlines() if l.split()[:1] == ["difference"]).split()[1:]
    assert any(v != "+0.000" for v in diff)


def test_classical_detector_replay_is_scored_beside_the_recorded_networks(log_path):
    result = replay_log(log_path, ReplayOptions(overrides=("perception.detectors=[classical]",), compare=True,
                                                progress=False))
    det = result.scores["detection"]
    assert det["classical"]["recorded"] is None and det["lidar"]["replay"] is None
    assert det["classical"]["replay"]["n_gt"] == det["lidar"]["recorded"]["n_gt"] > 0
    first = result.comparison["first_divergence"]
    assert not result.comparison["passed"] and "classical: no recorded detections" in first["notes"]


def test_replays_are_deterministic(log_path, perturbed_lidar):
    options = ReplayOptions(weights={"lidar": str(perturbed_lidar)}, progress=False)
    a, b = replay_log(log_path, options), replay_log(log_path, options)
    assert a.output_sha256 == b.output_sha256 and a.scores == b.scores and a.divergence == b.divergence
    assert a.output_sha256 != replay_log(log_path, QUIET).output_sha256


def test_bench_reports_ticks_per_second_and_the_split(log_path):
    result = run_replay_bench(log_path, ReplayOptions(threads=torch.get_num_threads()), repeats=1)
    m = result["median"]
    assert result["ticks"] == 20 and m["ticks_per_s"] > 0
    assert m["tick_ms"] >= m["tracker"] + m["planner"] + m["decode"]  # the main thread's share; detectors overlap it
    assert m["detector_lidar"] > 0 and m["detector_camera"] > 0
    text = format_replay_bench(result)
    assert "x real time (10 Hz)" in text and "lidar net" in text and "planner" in text


def test_a_log_driven_by_the_rl_policy_replays_its_planner(tmp_path):
    setup = build_setup("highway", "rl", "perception", ["scenario.duration_s=1"])
    path = tmp_path / "rl.mcap"
    recorder = LogRecorder(path, setup, seed=3)
    try:
        run_episode(setup, 3, [recorder], sensors=True)
    finally:
        recorder.close()
    result = replay_log(path, ReplayOptions(compare=True, progress=False))
    assert result.config.planner == "rl" and result.config.policy_file == setup.policy_file
    assert result.comparison["passed"] and result.divergence["ticks"] == 10 and result.divergence["max_m"] == 0.0


@pytest.mark.parametrize("runtime", ["onnxruntime", "torch"])
def test_batched_replay_gives_the_tick_by_tick_outputs(log_path, runtime):
    run = ("perception.runtime=" + runtime,)
    single = replay_log(log_path, ReplayOptions(overrides=run, batch_ticks=1, compare=True, progress=False))
    batched = replay_log(log_path, ReplayOptions(overrides=run, batch_ticks=8, compare=True, progress=False))
    assert batched.ticks == single.ticks == 20
    assert batched.output_sha256 == single.output_sha256 and batched.scores == single.scores
    # the log was recorded on the default runtime (onnxruntime, int8): replaying on it is exact; torch
    # runs fp32, whose detections differ from int8's
    assert batched.comparison["passed"] == (runtime == "onnxruntime")


def test_a_log_recorded_before_a_setting_existed_replays_with_its_old_behaviour():
    from sim.logs.replay_config import _fill_legacy

    old = {"perception": {"detectors": ["lidar"]}, "controller_config": {"dt_s": 0.1}}
    _fill_legacy(old)
    assert old["perception"]["runtime"] == "torch"
    assert old["controller_config"]["engage_s"] == 0.0 and old["controller_config"]["creep_speed_mps"] == 0.0
    new = {"perception": {"runtime": "onnxruntime"}, "controller_config": {"engage_s": 0.5, "creep_speed_mps": 2.0}}
    _fill_legacy(new)
    assert new == {"perception": {"runtime": "onnxruntime"},
                   "controller_config": {"engage_s": 0.5, "creep_speed_mps": 2.0}}
