"""Rule planner behaviour in small closed loops on hand-built maps (no simulator needed)."""
import numpy as np
import pytest

from conftest import arc_lane_map, make_track, make_world, straight_lane_map
from control import TrackingController, bicycle_step
from fusion import EgoState, WorldModel, locate
from planning import RulePlanner, make_planner
from planning.rule_planner import RulePlannerConfig
from planning.geometry import box_corners, boxes_overlap


def _closed_loop(lane_map, ego0, tracks0, seconds, dt=0.1):
    """Plan, control and move the ego with the bicycle model; tracks move at constant velocity."""
    planner, ctrl = RulePlanner(), TrackingController()
    state = np.array([ego0[0], ego0[1], 0.0, ego0[2]])
    tracks = list(tracks0)
    history, min_gap = [], np.inf
    for k in range(int(seconds / dt)):
        t = k * dt
        moved = [make_track(tr.track_id, tr.x_m + tr.vx_mps * t, tr.y_m, tr.vx_mps) for tr in tracks]
        pos = locate(lane_map, state[0], state[1])
        world = WorldModel(t, EgoState(t, *state), tuple(moved), lane_map, pos.lane_id if pos else None)
        cmd = ctrl.command(planner.plan(world), world.ego)
        state = bicycle_step(state[None], np.array([cmd.accel_mps2]), np.array([cmd.steering_rad]), dt,
                             ctrl.config.vehicle)[0]
        ego_box = box_corners(state[0], state[1], state[2], np.float64(5.0), np.float64(2.0))
        for tr in moved:
            other = box_corners(tr.x_m + tr.vx_mps * dt, tr.y_m, 0.0, np.float64(5.0), np.float64(2.0))
            assert not boxes_overlap(ego_box, other), f"collision at t={t:.1f}s"
            if abs(tr.y_m - state[1]) < 2.0:
                min_gap = min(min_gap, abs(tr.x_m - state[0]) - 5.0)
        history.append(state.copy())
    return np.array(history), min_gap


def test_changes_lane_to_pass_a_slow_leader():
    lanes = straight_lane_map(3)
    leader = make_track(1, 40.0, -4.0, 10.0, "a>b>1")
    hist, _ = _closed_loop(lanes, (0.0, -4.0, 25.0), [leader], seconds=10.0)
    leader_x = 40.0 + 10.0 * 10.0
    assert hist[-1, 0] > leader_x + 10.0            # ended well ahead of the slow car
    assert np.abs(hist[:, 1] + 4.0).max() > 3.0       # by leaving its lane
    assert hist[-1, 3] > 20.0                          # without having to slow down to its speed


def test_brakes_to_a_stop_behind_a_stopped_vehicle():
    lanes = straight_lane_map(1)
    stopped = make_track(1, 80.0, 0.0, 0.0, "a>b>0")
    hist, min_gap = _closed_loop(lanes, (0.0, 0.0, 20.0), [stopped], seconds=15.0)
    assert hist[-1, 3] < 0.5                           # stopped
    assert 0.5 < min_gap < 10.0                        # behind it, not in it, and not absurdly far


def test_follows_a_blocked_lane_instead_of_cutting_in():
    lanes = straight_lane_map(2)
    leader = make_track(1, 30.0, 0.0, 15.0, "a>b>0")
    wall = [make_track(2 + i, -20.0 + 9.0 * i, -4.0, 15.0, "a>b>1") for i in range(8)]
    hist, min_gap = _closed_loop(lanes, (0.0, 0.0, 15.0), [leader, *wall], seconds=8.0)
    assert np.abs(hist[:, 1]).max() < 1.0              # stayed in its lane
    assert min_gap > 3.0


def test_trajectory_follows_a_curved_lane():
    lanes = arc_lane_map(radius_m=30.0)
    traj = RulePlanner().plan(make_world(lanes, (0.0, 0.0, 10.0), [], "c>d>0"))
    radial = np.hypot(traj.xy_m[:, 0], traj.xy_m[:, 1] - 30.0) - 30.0
    assert np.abs(radial).max() < 0.1
    assert traj.speed_mps.max() <= 15.0 + 1e-6         # the lane's speed limit


def test_no_lane_gives_a_braking_trajectory():
    world = make_world(straight_lane_map(1), (0.0, 0.0, 10.0), [], None)
    empty = WorldModel(0.0, world.ego, (), type(world.lane_map)({}), None)
    traj = RulePlanner().plan(empty)
    assert traj.speed_mps[-1] < traj.speed_mps[0]


def test_unknown_planner_lists_valid_names():
    with pytest.raises(ValueError, match="valid: rl, rule"):
        make_planner("nope")


def test_an_uncertain_speed_estimate_makes_the_planner_keep_more_distance():
    # The same leader at the ego's speed, 20 m ahead: tracked for long (speed std 0.1 m/s) or just
    # born (5 m/s). The planner must not bet on a speed it does not know.
    from dataclasses import replace
    lanes = straight_lane_map(1)

    def planned_speed_at_horizon(speed_var):
        leader = replace(make_track(1, 20.0, 0.0, 20.0, "a>b>0"), covariance=np.diag([0.01, 0.01, speed_var, speed_var]))
        return RulePlanner().plan(make_world(lanes, (0.0, 0.0, 20.0), [leader], "a>b>0")).speed_mps[-1]

    assert planned_speed_at_horizon(25.0) < planned_speed_at_horizon(0.01) - 1.0


def test_predicted_boxes_grow_with_the_tracks_speed_uncertainty():
    from planning.scoring import ScoringParams, inflate_predictions
    pred = np.zeros((2, 3, 7))
    pred[..., 5], pred[..., 6] = 5.0, 2.0
    times = np.array([0.0, 1.0, 2.0])
    out = inflate_predictions(pred, times, ScoringParams(), np.array([0.1, 3.0]))
    # at 2 s: 2 x 0.5 m/s x 2 s for the well-known track (the floor), 2 x 3 m/s x 2 s for the other
    assert out[0, 2, 5] == pytest.approx(7.0) and out[1, 2, 5] == pytest.approx(17.0)
    assert np.allclose(out[:, 2, 6], 2.4) and np.allclose(out[:, 0, 5:], [5.0, 2.0])


def test_from_the_rightmost_lane_it_overtakes_on_the_left():
    lanes = straight_lane_map(3)                        # lane 2 (y = -8) is the rightmost
    leader = make_track(1, 40.0, -8.0, 10.0, "a>b>2")
    hist, _ = _closed_loop(lanes, (0.0, -8.0, 25.0), [leader], seconds=10.0)
    assert hist[-1, 0] > 40.0 + 10.0 * 10.0 + 10.0      # ended well ahead of the slow car
    assert -4.5 < hist[:, 1].max() < -3.0               # by moving one lane left, not past that lane
    assert hist[:, 1].min() > -8.5                      # and never right of its own
    assert hist[:, 3].min() > 24.0                      # a clean change: no braking behind the slow car


def _uncertain_leader_world(gap_centre_m, leader_speed, speed_std, ego_speed=20.0):
    from dataclasses import replace
    var = speed_std ** 2
    leader = replace(make_track(1, gap_centre_m, 0.0, leader_speed, "a>b>0"),
                     covariance=np.diag([0.01, 0.01, var, var]))
    return make_world(straight_lane_map(1), (0.0, 0.0, ego_speed), [leader], "a>b>0")


def _rear_if_slower(x0, speed, speed_std, at_s):
    """Rear bumper x of a 5 m car that started at ``x0`` and drives one speed std slower than its
    estimate (at least 0.5 m/s slower: the planner's floor), ``at_s`` seconds after the plan starts."""
    return x0 + (speed - max(speed_std, 0.5)) * at_s - 2.5


def test_a_car_just_ahead_whose_speed_is_a_guess_gets_room_for_it_being_slower():
    # 5 m (bumper to bumper) ahead at the ego's 20 m/s, but just born: speed std 5 m/s. It may be doing
    # 15 m/s: the plan stays behind where its rear would then be, rather than betting on 20 m/s.
    traj = RulePlanner().plan(_uncertain_leader_world(10.0, 20.0, 5.0))
    t = traj.t_s - traj.t_s[0]
    front = traj.xy_m[:, 0] + 2.5
    assert (front < _rear_if_slower(10.0, 20.0, 5.0, t)).all()
    # a well-tracked car at the same place is followed at about its speed
    assert RulePlanner().plan(_uncertain_leader_world(10.0, 20.0, 0.1)).speed_mps[-1] > 15.0


def test_closing_on_a_car_whose_speed_is_uncertain_it_keeps_a_second_to_collision_if_it_is_slower():
    # 15 m (bumper) ahead at 15 m/s, the ego at 20 m/s, speed std 4 m/s. From every planned state,
    # driving on at the planned speed for up to 1 s must not reach where the car's rear would be
    # if it drove one std slower (nuPlan's time-to-collision against the uncertain position).
    traj = RulePlanner().plan(_uncertain_leader_world(20.0, 15.0, 4.0))
    t = traj.t_s - traj.t_s[0]
    for tau in (0.25, 0.5, 0.75, 1.0):
        ahead = traj.xy_m[:, 0] + traj.speed_mps * tau + 2.5
        assert (ahead < _rear_if_slower(20.0, 15.0, 4.0, t + tau)).all(), tau


def _lateral_accel_of_return(config: RulePlannerConfig, seconds: float = 4.0, dt: float = 0.1) -> tuple[float, float]:
    """Closed loop from an aborted lane change: 1.85 m right of lane 1's centre, heading 5 degrees
    further right at 14 m/s, lane 2 taken by a car alongside. Returns (max |lateral acceleration|
    [m/s^2], final |offset| [m])."""
    lanes = straight_lane_map(3)
    planner, ctrl = RulePlanner(config), TrackingController()
    state = np.array([0.0, -5.85, -0.088, 14.0])
    blocker = make_track(1, 4.0, -8.0, 14.0, "a>b>2")
    yaw = [state[2]]
    for k in range(int(seconds / dt)):
        t = k * dt
        car = make_track(1, blocker.x_m + 14.0 * t, -8.0, 14.0, "a>b>2")
        world = WorldModel(t, EgoState(t, *state), (car,), lanes, locate(lanes, state[0], state[1]).lane_id)
        cmd = ctrl.command(planner.plan(world), world.ego)
        state = bicycle_step(state[None], np.array([cmd.accel_mps2]), np.array([cmd.steering_rad]), dt,
                             ctrl.config.vehicle)[0]
        yaw.append(state[2])
    lateral = 14.0 * np.abs(np.diff(yaw)) / dt
    return float(lateral.max()), abs(state[1] + 4.0)


def test_an_aborted_lane_change_blends_back_into_the_own_lane_within_the_comfort_bound():
    lateral, offset = _lateral_accel_of_return(RulePlannerConfig())
    assert lateral < 4.89 and offset < 0.3  # nuPlan's lateral comfort bound; back on its lane
    # pure pursuit straight at the centre line (the own lane never blended) turns it far harder
    direct, _ = _lateral_accel_of_return(RulePlannerConfig(own_lane_blend_offset_m=10.0))
    assert direct > 6.0
