"""Surrogate detectors: simulated detections follow the model, and fitting recovers it."""
import dataclasses

import numpy as np

from perception.calibration import CameraCalibration, intrinsics, mount_transform
from perception.frames import BoxLabels
from perception.surrogate import SensorErrorModel, fit_sensor_model, simulate_detections

EDGES = (0.0, 20.0, 40.0, 60.0)


def _labels(rng, n=12):
    r, a = rng.uniform(5, 58, n), rng.uniform(-np.pi, np.pi, n)
    center = np.column_stack([r * np.cos(a), r * np.sin(a), np.full(n, 0.8)])
    return BoxLabels(np.arange(n), center, np.tile([5.0, 2.0, 1.6], (n, 1)), rng.uniform(-0.2, 0.2, n),
                     np.zeros((n, 2)), np.ones(n), np.ones((n, 1)))


def _model(source="lidar", fp=(0.0, 0.0, 0.0)):
    return SensorErrorModel(source, EDGES, p_detect=(0.95, 0.8, 0.5), along_std_m=(0.2, 0.5, 1.0),
                            across_std_m=(0.1, 0.2, 0.3), fp_per_frame=fp, tp_score=(0.9, 0.8, 0.6),
                            fp_score=(0.4, 0.4, 0.4))


def test_simulated_detections_follow_the_model_and_fitting_recovers_it():
    rng = np.random.default_rng(0)
    model = _model(fp=(0.2, 0.1, 0.0))
    pairs = []
    for _ in range(400):
        labels = _labels(rng)
        pairs.append((simulate_detections(model, labels, 0.0, rng), labels))
    fitted = fit_sensor_model(pairs, "lidar", None, score_threshold=0.3, range_edges_m=EDGES)
    assert np.allclose(fitted.p_detect, model.p_detect, atol=0.05)
    assert np.allclose(fitted.along_std_m, model.along_std_m, rtol=0.15)
    assert np.allclose(fitted.across_std_m, model.across_std_m, rtol=0.15)
    assert np.allclose(fitted.fp_per_frame, model.fp_per_frame, atol=0.05)
    assert fitted.frames == 400 and sum(fitted.objects) == 400 * 12 and fitted.thin_bins() == []


def test_a_fit_on_few_frames_names_its_thin_range_bins():
    rng = np.random.default_rng(2)
    labels = _labels(rng, n=40)
    near = dataclasses.replace(labels, center_m=labels.center_m * np.array([0.3, 0.3, 1.0]))  # all within 18 m
    fitted = fit_sensor_model([(simulate_detections(_model(), near, 0.0, rng), near)], "lidar", None,
                              range_edges_m=EDGES)
    assert fitted.objects == (40, 0, 0)
    assert fitted.thin_bins() == ["20-40 m", "40-60 m"] and fitted.thin_bins(minimum=41) == ["0-20 m", "20-40 m", "40-60 m"]


def test_camera_surrogate_sees_only_its_field_of_view_and_reports_ray_covariance():
    rng = np.random.default_rng(1)
    cam = CameraCalibration("front", intrinsics(320, 160, np.deg2rad(90.0)), 320, 160,
                            mount_transform((1.0, 0.0, 1.4), optical=True))
    model = _model("camera")
    for _ in range(50):
        det = simulate_detections(model, _labels(rng), 0.0, rng, cam)
        assert (det.center_m[:, 0] > 0).all()  # nothing behind the camera
        assert det.source == "camera" and det.covariance_m2.shape == (len(det), 2, 2)
    # the covariance's long axis lies along the viewing ray
    one = BoxLabels(np.array([0]), np.array([[30.0, 10.0, 0.8]]), np.array([[5.0, 2.0, 1.6]]), np.zeros(1),
                    np.zeros((1, 2)), np.ones(1), np.ones((1, 1)))
    det = simulate_detections(SensorErrorModel("camera", EDGES, (1.0, 1.0, 1.0), (3.0, 3.0, 3.0), (0.2, 0.2, 0.2),
                                               (0.0, 0.0, 0.0), (0.9, 0.9, 0.9), (0.4, 0.4, 0.4)), one, 0.0, rng, cam)
    w, v = np.linalg.eigh(det.covariance_m2[0])
    ray = np.array([30.0, 10.0]) / np.hypot(30.0, 10.0)
    assert abs(abs(v[:, 1] @ ray) - 1.0) < 1e-6 and np.isclose(np.sqrt(w[1]), 3.0)


def test_domain_randomisation_scales_each_model_within_its_spread():
    from perception.surrogate import randomised

    base = SensorErrorModel("lidar", (0.0, 20.0, 40.0), p_detect=(1.0, 0.8), along_std_m=(0.2, 0.4),
                            across_std_m=(0.1, 0.3), fp_per_frame=(0.5, 1.0))
    assert randomised(base, np.random.default_rng(0), 0.0) is base
    draws = [randomised(base, np.random.default_rng(seed), 1.0) for seed in range(200)]
    std = np.array([d.along_std_m[1] / 0.4 for d in draws])
    assert np.allclose([d.across_std_m[1] / 0.3 for d in draws], std)  # one factor per draw for both axes
    assert 0.5 <= std.min() < 0.6 and 1.8 < std.max() <= 2.0  # log-uniform in [1/2, 2]
    p = np.array([d.p_detect[0] for d in draws])
    assert 0.5 <= p.min() < 0.55 and 0.95 < p.max() <= 1.0
    assert len({d.fp_per_frame for d in draws}) == 200


def test_the_surrogate_world_draws_its_models_per_episode_seed():
    from conftest import straight_lane_map

    from sim.loop.world_sources import PerceptionConfig, SurrogateWorld

    world = SurrogateWorld(PerceptionConfig(surrogate_randomise=0.5))
    lanes = straight_lane_map()
    drawn = []
    for seed in (1, 2, 1):
        world.reset(lanes, seed)
        drawn.append(world.models[0].along_std_m)
    assert drawn[0] == drawn[2] != drawn[1]
    assert SurrogateWorld(PerceptionConfig()).models[0] == world.fitted[0]
