"""World models from sensors (`perception`) and from the fitted surrogate, in the closed loop."""
import numpy as np
import pytest

from sim.evaluation.metrics import compute_episode_metrics
from sim.loop.runner import Timings, run_episode
from sim.loop.setup import build_setup
from sim.loop.world_sources import make_world_source


def _run(world_model: str, *overrides: str, seconds: float = 3.0):
    setup = build_setup("highway", "rule", world_model, [f"scenario.duration_s={seconds}", *overrides])
    timings = Timings()
    log = run_episode(setup, seed=11, timings=timings)
    return log, timings.per_tick_ms()


def test_perception_world_model_drives_the_loop_with_tracks_from_both_sensors():
    log, per = _run("perception")
    assert log.world_model == "perception" and len(log.t_s) >= 30 and not log.collided
    for phase in ("sensors", "world_model.detector_lidar", "world_model.detector_camera",
                  "world_model.tracker"):
        assert per[phase] > 0.0


def test_perception_world_model_yields_confirmed_tracks_near_the_truth():
    setup = build_setup("highway", "rule", "perception", ["scenario.duration_s=2"])
    from sim.loop.setup import open_env
    from sim.loop.tick import Episode

    env = open_env(setup)
    try:
        episode = Episode(env, setup, seed=5)
        for _ in range(16):
            record = episode.tick()
    finally:
        env.close()
    world, truth = record.world, record.ground_truth.others_array
    assert record.frame is not None and [d.source for d in record.detections] == ["lidar", "camera"]
    near = truth[np.hypot(truth[:, 0] - world.ego.x_m, truth[:, 1] - world.ego.y_m) < 30.0]
    assert len(world.tracks) >= 1 and len(near) >= 1
    for t in world.tracks:
        assert t.covariance.shape == (4, 4) and np.all(np.linalg.eigvalsh(t.covariance) > 0)
    # every nearby car is tracked within 1.5 m
    for x, y in near[:, :2]:
        assert min(np.hypot(t.x_m - x, t.y_m - y) for t in world.tracks) < 1.5


def test_sensor_blackouts_and_dropped_frames_never_crash_the_run():
    log, _ = _run("perception", "sensors.faults.camera_blackout_s=[0.5,1.5]", "sensors.faults.lidar_blackout_s=[1.0,2.0]",
                  "sensors.faults.drop_probability=0.3")
    assert len(log.t_s) == 31 or log.collided  # ran to the end (3 s at 10 Hz plus the final state)
    assert np.isfinite(compute_episode_metrics(log).mean_speed_mps)


def test_surrogate_world_model_runs_without_rendering():
    log, per = _run("surrogate")
    assert log.world_model == "surrogate" and len(log.t_s) >= 30
    assert "sensors" not in per and per["world_model.surrogate_detections"] > 0.0


def test_perception_config_errors_are_clear():
    with pytest.raises(ValueError, match="unknown config key 'perception.nope'"):
        build_setup("highway", "rule", "perception", ["perception.nope=1"])
    setup = build_setup("highway", "rule", "perception", ["perception.detectors=[radar]"])
    with pytest.raises(ValueError, match="unknown detector 'radar'"):
        make_world_source("perception", setup.perception, setup.rig)


def test_tracking_evaluation_scores_each_sensor_set_against_ground_truth():
    from sim.evaluation.tracking import TrackingJob, combine, track_episode

    setup = build_setup("highway", "rule", "ground_truth", ["scenario.duration_s=3"])
    run = track_episode(TrackingJob(setup, seed=3))
    accs = run.accumulators
    assert set(accs) == {"lidar+camera", "lidar", "camera"}
    assert {source for source, _, _ in run.nis} == {"lidar", "camera"} and all(d2 >= 0 for _, _, d2 in run.nis)
    both = combine([accs["lidar+camera"].summary()])
    assert both["num_gt"] > 20 and both["mota"] > 0.5 and both["idf1"] > 0.5
    assert set(both["by_range"]) == {"0-20", "20-40", "40-60"}
