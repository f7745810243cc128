"""Closed-loop behaviour of the tracking controller on the project's bicycle model."""
from dataclasses import replace

import numpy as np
import pytest

from control import Command, ControllerConfig, TrackingController, Trajectory, VehicleParams, bicycle_step
from fusion import EgoState


def _ego(state, stamp):
    return EgoState(stamp=stamp, x_m=state[0], y_m=state[1], yaw_rad=state[2], speed_mps=state[3])


def _track(path_xy, speed, x0, steps=150, dt=0.1):
    """Run the controller on the bicycle model along a fixed path; return the visited states."""
    ctrl = TrackingController(ControllerConfig(dt_s=dt))
    state = np.array(x0, dtype=float)
    visited = []
    for k in range(steps):
        t = k * dt
        traj = Trajectory(t_s=t + np.linspace(0.0, 5.0, len(path_xy)), xy_m=path_xy,
                          yaw_rad=np.zeros(len(path_xy)), speed_mps=np.full(len(path_xy), speed))
        cmd = ctrl.command(traj, _ego(state, t))
        state = bicycle_step(state[None], np.array([cmd.accel_mps2]), np.array([cmd.steering_rad]), dt,
                             ctrl.config.vehicle)[0]
        visited.append(state.copy())
    return np.array(visited)


def test_converges_onto_straight_path_within_10cm():
    path = np.stack([np.linspace(0, 2000, 1001), np.zeros(1001)], axis=1)
    states = _track(path, speed=25.0, x0=[0.0, 1.5, 0.0, 20.0])
    assert np.abs(states[-30:, 1]).max() < 0.10      # cross-track error [m] after 12 s
    assert abs(states[-1, 3] - 25.0) < 0.3            # speed error [m/s]


def test_converges_onto_curved_path_within_15cm():
    radius = 60.0
    ang = np.linspace(-np.pi / 2, 3 * np.pi / 2, 1200)
    path = np.stack([radius * np.cos(ang), radius + radius * np.sin(ang)], axis=1)  # circle through origin, CCW
    states = _track(path, speed=10.0, x0=[0.0, -1.0, 0.0, 10.0], steps=250)
    radial = np.hypot(states[-100:, 0], states[-100:, 1] - radius) - radius
    assert np.abs(radial).max() < 0.15


def test_non_finite_inputs_give_braking_and_straight_wheels():
    ctrl = TrackingController()
    path = np.stack([np.linspace(0, 100, 51), np.zeros(51)], axis=1)
    traj = Trajectory(np.linspace(0, 5, 51), path, np.zeros(51), np.full(51, np.nan))
    cmd = ctrl.command(traj, EgoState(0.0, 0.0, 0.0, 0.0, 10.0))
    assert isinstance(cmd, Command)
    assert cmd.accel_mps2 == ctrl.config.vehicle.min_accel_mps2 and cmd.steering_rad == 0.0


def test_steering_rate_and_range_are_limited():
    params = VehicleParams()
    ctrl = TrackingController(ControllerConfig(vehicle=params))
    path = np.stack([np.zeros(51), np.linspace(0, 100, 51)], axis=1)  # path straight to the left
    traj = Trajectory(np.linspace(0, 5, 51), path, np.full(51, np.pi / 2), np.full(51, 10.0))
    prev = 0.0
    for k in range(10):
        cmd = ctrl.command(traj, EgoState(k * 0.1, 0.0, 0.0, 0.0, 10.0))
        assert abs(cmd.steering_rad - prev) <= params.max_steering_rate_radps * 0.1 + 1e-9
        assert abs(cmd.steering_rad) <= params.max_steering_rad + 1e-9
        prev = cmd.steering_rad
    assert prev > 0.5 * params.max_steering_rad  # it does steer left, towards the path


def test_never_commands_reverse_when_stopping():
    ctrl = TrackingController()
    path = np.stack([np.linspace(0, 1, 11), np.zeros(11)], axis=1)
    traj = Trajectory(np.linspace(0, 5, 11), path, np.zeros(11), np.zeros(11))
    cmd = ctrl.command(traj, EgoState(0.0, 0.0, 0.0, 0.0, 0.2))
    assert cmd.accel_mps2 >= -0.2 / 0.1 - 1e-9


def test_trajectory_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        Trajectory(np.zeros(3), np.zeros((4, 2)), np.zeros(3), np.zeros(3))


def _drive(cfg, v_ref, v0, steps=30, engaging=False):
    """Commands [m/s^2] and speeds [m/s] (initial one first) tracking a flat speed reference from v0 [m/s]."""
    path = np.stack([np.linspace(0.0, 400.0, 201), np.zeros(201)], axis=1)
    ctrl, state, commands, speeds = TrackingController(cfg), np.array([0.0, 0.0, 0.0, v0]), [], [v0]
    ctrl.reset(engaging=engaging)
    for k in range(steps):
        t = k * cfg.dt_s
        traj = Trajectory(t_s=t + np.linspace(0.0, 5.0, 201), xy_m=path, yaw_rad=np.zeros(201),
                          speed_mps=np.full(201, v_ref))
        cmd = ctrl.command(traj, _ego(state, t))
        state = bicycle_step(state[None], np.array([cmd.accel_mps2]), np.array([cmd.steering_rad]), cfg.dt_s,
                             cfg.vehicle)[0]
        commands.append(cmd.accel_mps2)
        speeds.append(state[3])
    return np.array(commands), np.array(speeds)


def _rate_commands(cfg, v_ref, v0, steps=30, engaging=False):
    """Rates of change [m/s^3] of the commands tracking a flat speed reference from v0 [m/s]."""
    commands, _ = _drive(cfg, v_ref, v0, steps, engaging)
    return np.diff(np.concatenate([[0.0], commands])) / cfg.dt_s


def test_acceleration_rate_is_limited_comfortably_and_for_emergencies():
    # A step up in the speed reference: the command ramps at the comfort jerk (4 m/s^3); a step down
    # to a stop asks for hard braking: then the vehicle's own limit (15 m/s^3) applies, no faster.
    cfg = ControllerConfig()
    up = _rate_commands(cfg, 30.0, 20.0)
    assert np.abs(up).max() == pytest.approx(cfg.comfort_jerk_mps3)        # ramps at exactly the comfort rate
    down = _rate_commands(cfg, 0.0, 20.0)
    assert np.abs(down).max() == pytest.approx(cfg.vehicle.max_jerk_mps3)  # emergency: the vehicle's rate
    assert (np.abs(down) <= cfg.vehicle.max_jerk_mps3 + 1e-9).all()


def test_engaging_the_command_ramps_in_at_the_engage_jerk_for_engage_s_except_in_emergencies():
    cfg = ControllerConfig(engage_s=1.0, engage_jerk_mps3=3.0)
    n = int(round(cfg.engage_s / cfg.dt_s))
    for v_ref in (30.0, 17.0):  # speeding up, and braking from 20 m/s to 17 (the speed loop asks for 3.6)
        rates = _rate_commands(cfg, v_ref, 20.0, engaging=True)
        assert np.abs(rates[:n]).max() == pytest.approx(cfg.engage_jerk_mps3)
    later = _rate_commands(cfg, 30.0, 20.0, steps=60, engaging=True)  # past the first second: up to the comfort rate
    assert cfg.engage_jerk_mps3 + 0.1 < np.abs(later[n:]).max() <= cfg.comfort_jerk_mps3 + 1e-9
    down = _rate_commands(cfg, 0.0, 20.0, engaging=True)  # an emergency at once: the vehicle's rate
    assert np.abs(down[:n]).max() == pytest.approx(cfg.vehicle.max_jerk_mps3)
    default = ControllerConfig()  # the default: half a second (the comfort score's first window)
    n = int(round(default.engage_s / default.dt_s))
    rates = _rate_commands(default, 30.0, 20.0, engaging=True)
    assert n == 5 and np.abs(rates[:n]).max() == pytest.approx(default.engage_jerk_mps3)
    assert np.abs(rates[n:]).max() == pytest.approx(default.comfort_jerk_mps3)
    off = _rate_commands(replace(default, engage_s=0.0), 30.0, 20.0, engaging=True)  # off: the comfort rate at once
    assert np.abs(off[:n]).max() == pytest.approx(default.comfort_jerk_mps3)


def test_creeping_changes_the_command_gently_and_driving_at_the_comfort_rate():
    cfg = ControllerConfig(engage_s=0.0)  # no engagement ramp: only the creep limit
    inching = _rate_commands(cfg, 1.5, 0.0, steps=8)  # pulling away from a standstill towards 1.5 m/s
    assert np.abs(inching).max() == pytest.approx(cfg.engage_jerk_mps3)
    assert np.abs(_rate_commands(replace(cfg, creep_speed_mps=0.0), 1.5, 0.0, steps=8)).max() == \
        pytest.approx(cfg.comfort_jerk_mps3)
    assert np.abs(_rate_commands(cfg, 30.0, 20.0)).max() == pytest.approx(cfg.comfort_jerk_mps3)  # above it
    stopping = _rate_commands(cfg, 0.0, 1.5)  # stopping from 1.5 m/s: gently too
    assert np.abs(stopping).max() == pytest.approx(cfg.engage_jerk_mps3)


def test_the_default_engagement_keeps_a_braking_start_within_the_comfort_score():
    """Braking from 10 to 8 m/s from the first tick (an episode whose plan wants less than its spawn speed):
    the score's first-window fit reads the 4.0 m/s^3 ramp as over nuPlan's 4.13, the engagement's as under."""
    from sim.evaluation.metrics import comfort_signals

    def worst_jerk(cfg):
        _, speeds = _drive(cfg, 8.0, 10.0, steps=40, engaging=True)
        return np.abs(comfort_signals(speeds, np.zeros(len(speeds)), cfg.dt_s, 5)[1]).max()

    assert worst_jerk(ControllerConfig()) < 4.13 < worst_jerk(ControllerConfig(engage_s=0.0))


def _stop(cfg):
    """Track a speed reference ramping from 6 m/s to 0 at 2 m/s^2 on a straight path for 8 s:
    (accel commands, speeds after each step, final position [m])."""
    path = np.stack([np.linspace(0.0, 100.0, 201), np.zeros(201)], axis=1)
    t_ref = np.linspace(0.0, 10.0, 201)
    traj = Trajectory(t_s=t_ref, xy_m=path, yaw_rad=np.zeros(201),
                      speed_mps=np.interp(t_ref, [0.0, 3.0, 10.0], [6.0, 0.0, 0.0]))
    ctrl, state, accel, speed = TrackingController(cfg), np.array([0.0, 0.0, 0.0, 6.0]), [], []
    for k in range(80):
        cmd = ctrl.command(traj, _ego(state, k * cfg.dt_s))
        state = bicycle_step(state[None], np.array([cmd.accel_mps2]), np.array([0.0]), cfg.dt_s, cfg.vehicle)[0]
        accel.append(cmd.accel_mps2)
        speed.append(state[3])
    return np.array(accel), np.array(speed), state[0]


def test_a_comfortable_stop_fades_the_braking_out_instead_of_dropping_it_at_rest():
    # The braking stays near 2 m/s^2, then fades out as the car comes to rest (within sqrt(2 J v), J the
    # stop jerk): no step from braking to zero, and it stands still a few decimetres after a hard stop would.
    cfg = ControllerConfig()
    accel, speed, x_end = _stop(cfg)
    assert speed[-1] == pytest.approx(0.0, abs=1e-6) and accel.min() < -1.9
    assert np.abs(np.diff(accel)).max() / cfg.dt_s <= cfg.comfort_jerk_mps3 + 1e-9  # to the end (a hard stop: > 10)
    moving = speed[:-1] > 0.0
    assert (accel[1:][moving] >= -np.sqrt(2.0 * cfg.stop_jerk_mps3 * speed[:-1][moving]) - 1e-9).all()
    hard_accel, _, x_hard = _stop(replace(cfg, stop_jerk_mps3=1e6))
    assert np.abs(np.diff(hard_accel)).max() / cfg.dt_s > 10.0
    assert 0.0 < x_end - x_hard < 0.4


# --- behaviours pinned for the mutation survivors (docs/results/mutation_survivors.md) ---

def _straight(speed, n=51, t0=0.0):
    path = np.stack([np.linspace(0, 100, n), np.zeros(n)], axis=1)
    return path, t0 + np.linspace(0.0, 5.0, n), np.full(n, speed)


def test_the_command_carries_the_ego_stamp():
    path, t, v = _straight(10.0, t0=12.3)
    cmd = TrackingController().command(Trajectory(t, path, np.zeros(len(t)), v),
                                       EgoState(12.3, 0.0, 0.0, 0.0, 10.0))
    assert cmd.stamp == 12.3


def test_a_non_finite_vehicle_in_a_batch_leaves_the_others_alone_and_gets_straight_wheels():
    path, t, v = _straight(10.0)
    ctrl = TrackingController()
    ctrl.reset(batch=2, steering_rad=0.3)    # wheels turned on both before the step
    state = np.array([[0.0, 1.0, 0.0, 10.0], [np.nan, 0.0, 0.0, 10.0]])
    accel, steer = ctrl.step_batch(state, np.stack([path, path]), t, np.stack([v, v]), 0.0)
    ref = TrackingController()
    ref.reset(batch=1, steering_rad=0.3)
    accel1, steer1 = ref.step_batch(state[:1], path[None], t, v[None], 0.0)
    assert accel[0] == accel1[0] and steer[0] == steer1[0]          # the good vehicle: as if alone
    assert np.isfinite(accel1[0]) and accel1[0] > ctrl.config.vehicle.min_accel_mps2
    assert accel[1] == ctrl.config.vehicle.min_accel_mps2 and steer[1] == 0.0


def test_a_fresh_controller_serves_one_vehicle():
    path, t, v = _straight(10.0)
    accel, steer = TrackingController().step_batch(np.array([[0.0, 0.5, 0.0, 9.0]]), path[None], t, v[None], 0.0)
    assert accel.shape == (1,) and steer.shape == (1,)


def test_the_speed_integral_accumulates_error_times_time():
    path, t, v = _straight(11.0)
    ctrl = TrackingController()
    for k in range(3):
        ctrl.step_batch(np.array([[0.0, 0.0, 0.0, 10.0]]), path[None], t, v[None], 0.0)
        assert ctrl.state()[2][0] == pytest.approx(1.0 * ctrl.config.dt_s * (k + 1))   # 1 m/s short


def test_the_feed_forward_anticipates_a_ramp_in_the_speed_reference():
    # reference: 10 m/s until t = 1.0 s, then +2 m/s^2; the ego is exactly on it at t = 0.95 s
    cfg = ControllerConfig()
    t = np.linspace(0.0, 5.0, 501)
    v = 10.0 + 2.0 * np.maximum(t - 1.0, 0.0)
    path = np.stack([np.linspace(0, 100, 501), np.zeros(501)], axis=1)
    ctrl = TrackingController(cfg)
    ctrl.reset(batch=1, accel_mps2=0.0)
    accel, _ = ctrl.step_batch(np.array([[0.0, 0.0, 0.0, 10.0]]), path[None], t, v[None], 0.95)
    # no speed error yet, so only the previewed ramp (preview 0.1 s reaches into it) moves the command
    assert accel[0] > 0.0


def test_emergency_braking_is_not_softened_by_the_stop_profile():
    cfg = ControllerConfig()
    path, t, v = _straight(0.0)
    ctrl = TrackingController(cfg)
    ctrl.reset(batch=1, accel_mps2=-4.0)
    # 6 m/s, reference at rest: the speed loop asks for full braking (harder than the emergency threshold)
    accel, _ = ctrl.step_batch(np.array([[0.0, 0.0, 0.0, 6.0]]), path[None], t, v[None], 0.0)
    # braking grows at the vehicle's own jerk limit, past the soft stop's sqrt(2 J v) = 4.24 m/s^2
    assert accel[0] == pytest.approx(-4.0 - cfg.vehicle.max_jerk_mps3 * cfg.dt_s)
