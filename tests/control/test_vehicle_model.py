"""The kinematic bicycle model's batch shapes and the steering it gives for a curvature."""
import numpy as np

from control import VehicleParams, bicycle_step
from control.vehicle_model import slip_angle, steering_for_curvature


def test_bicycle_step_accepts_a_single_state_and_any_batch_shape():
    params = VehicleParams()
    rng = np.random.default_rng(0)
    states = rng.uniform(-1.0, 1.0, (2, 3, 4)) + np.array([0.0, 0.0, 0.0, 10.0])
    accel, steer = rng.uniform(-2, 2, (2, 3)), rng.uniform(-0.2, 0.2, (2, 3))
    batch = bicycle_step(states, accel, steer, 0.1, params)
    assert batch.shape == (2, 3, 4)
    for i in range(2):
        for j in range(3):
            one = bicycle_step(states[i, j], accel[i, j], steer[i, j], 0.1, params)
            assert one.shape == (4,)
            np.testing.assert_allclose(batch[i, j], one)
    # a sanity anchor: straight wheels move along the heading at the current speed
    np.testing.assert_allclose(bicycle_step(np.array([0.0, 0.0, 0.0, 10.0]), 0.0, 0.0, 0.1, params),
                               [1.0, 0.0, 0.0, 10.0])


def test_steering_for_any_curvature_is_finite_and_saturates_symmetrically():
    params = VehicleParams()
    curv = np.array([-10.0, -1.0, -0.5, -0.1, 0.0, 0.1, 0.5, 1.0, 10.0])
    steer = steering_for_curvature(curv, params)
    assert np.all(np.isfinite(steer))
    assert np.all(np.diff(steer) >= 0.0)                        # tighter turns never steer less
    np.testing.assert_allclose(steer, -steer[::-1])              # left and right alike
    # gentle curvatures are followed exactly: the circle's yaw rate v sin(beta) / lr matches v * curvature
    beta = slip_angle(steer[3:6], params)
    np.testing.assert_allclose(np.sin(beta) / params.rear_to_cg_m, curv[3:6], atol=1e-12)
