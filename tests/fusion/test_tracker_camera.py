"""The tracker with a camera beside the lidar: how far camera detections move tracks, which tracks the
camera may start, carry or keep output, and how its depth outliers are handled."""
import math
from dataclasses import replace

import numpy as np
from tracker_helpers import DT, INSTANT, LIDAR_COV, detections, ego_at, only_track

from fusion.sensor_model import SensorModel
from fusion.tracker import MultiObjectTracker, TrackerConfig
from fusion.types import EgoState


def _posterior_after(second_batch_source, cov_ego):
    """Track spawned by a lidar hit, then corrected by one detection 1 m further along the viewing ray."""
    ego = EgoState(0.0, 5.0, 2.0, 0.5, 0.0)
    bearing, range_m = 0.3, 25.0
    ray_map = np.array([math.cos(0.8), math.sin(0.8)])  # ego yaw + bearing
    target = np.array([ego.x_m, ego.y_m]) + range_m * ray_map
    tracker = MultiObjectTracker(INSTANT)
    tracker.update([detections(0.0, ego, target)], ego)
    ego1 = EgoState(DT, 5.0, 2.0, 0.5, 0.0)
    tracker.update([detections(DT, ego1, target + ray_map, cov_ego, second_batch_source)], ego1)
    track = only_track(tracker)
    shift_along = float((np.array([track.x_m, track.y_m]) - target) @ ray_map)
    var_along = float(ray_map @ track.covariance[:2, :2] @ ray_map)
    return shift_along, var_along, track.covariance[:2, :2], ray_map, bearing

def test_camera_detection_moves_track_less_along_the_viewing_ray_than_lidar():
    rot = np.array([[math.cos(0.3), -math.sin(0.3)], [math.sin(0.3), math.cos(0.3)]])
    camera_cov = rot @ np.diag([2.0 ** 2, 0.1 ** 2]) @ rot.T  # ego frame, long along the ray at 0.3 rad
    lidar_shift, lidar_var, _, _, _ = _posterior_after("lidar", LIDAR_COV)
    cam_shift, cam_var, cam_P, ray_map, _ = _posterior_after("camera", camera_cov)
    assert lidar_shift > 0.9  # lidar: the gain along the ray is near 1
    assert 0.1 < cam_shift < 0.8 * lidar_shift  # 2 m along the ray, times CAMERA.noise_scale 0.2: ~0.9 m
    assert cam_var > 5.0 * lidar_var
    # The camera's uncertainty is rotated into the map frame: its major axis is the map-frame ray.
    major = np.linalg.eigh(cam_P)[1][:, -1]
    assert abs(major @ ray_map) > 0.99

def test_repeated_camera_phantom_where_the_lidar_sees_nothing_is_never_output():
    tracker = MultiObjectTracker()
    camera_cov = np.diag([1.5 ** 2, 0.2 ** 2])
    ids = set()
    for k in range(30):
        t = k * DT
        ego = ego_at(t, 10.0)
        lidar = detections(t, ego, [[30.0 + 10.0 * t, 0.0]])
        camera = detections(t, ego, [[30.0 + 10.0 * t, 0.0], [ego.x_m + 20.0, 4.0]], camera_cov, "camera", score=0.9)
        tracker.update([lidar, camera], ego)
        ids |= {track.track_id for track in tracker.tracks()}
    assert ids == {1}

def test_camera_alone_confirms_a_new_car_during_a_lidar_blackout():
    tracker = MultiObjectTracker()
    camera_cov = np.diag([1.5 ** 2, 0.2 ** 2])
    seen = []
    for k in range(10):
        t = k * DT
        ego = ego_at(t, 10.0)
        tracker.update([detections(t, ego, [[ego.x_m + 20.0, 0.0]], camera_cov, "camera", score=0.8)], ego)
        seen.append(len(tracker.tracks()))
    assert seen[0] == 0 and seen[-1] == 1 and seen.index(1) <= 3

def test_weak_lidar_detections_carry_a_half_hidden_car_but_do_not_confirm_a_camera_phantom():
    camera_cov = np.diag([1.5 ** 2, 0.2 ** 2])
    tracker = MultiObjectTracker(TrackerConfig(unconfirmed_frames=5))
    shown = []
    for k in range(30):
        t, ego = k * DT, ego_at(k * DT, 10.0)
        phantom = [ego.x_m + 20.0, 4.0]
        tracker.update([detections(t, ego, [phantom], score=0.3),
                        detections(t, ego, [phantom], camera_cov, "camera", score=0.9)], ego)
        shown.append(len(tracker.tracks()))
    assert shown[-1] == 0

def test_a_camera_outlier_does_not_inflate_and_drag_a_lidar_track():
    # A camera detection 2.9 m off along the ray (a depth outlier, inside the gate) barely moves a settled
    # track; the same innovation from the lidar is taken as a manoeuvre and followed.
    def shift_after_outlier(source, cov):
        tracker = MultiObjectTracker()
        for k in range(20):
            t, ego = k * DT, ego_at(k * DT, 0.0)
            tracker.update([detections(t, ego, [[30.0, 0.0]])], ego)
        t, ego = 20 * DT, ego_at(20 * DT, 0.0)
        tracker.update([detections(t, ego, [[32.9, 0.0]], cov, source)], ego)
        return only_track(tracker).x_m - 30.0
    camera = shift_after_outlier("camera", np.diag([0.8 ** 2, 0.2 ** 2]))
    lidar = shift_after_outlier("lidar", np.diag([0.8 ** 2, 0.2 ** 2]))
    assert camera < 0.05 and lidar > 2.0  # the camera's plain Kalman gain P / (P + R) ~ 0.01: 3-4 cm

def test_track_survives_on_camera_when_lidar_drops_out():
    def lead(t):  # a car 30 m ahead on the ego's arc, slowly pulling away
        car = ego_at(t, 18.0, 0.1)
        return [car.x_m + 30.0 * math.cos(car.yaw_rad), car.y_m + 30.0 * math.sin(car.yaw_rad)]

    camera_cov = np.diag([1.5 ** 2, 0.2 ** 2])
    tracker = MultiObjectTracker()
    ids = set()
    for k in range(40):
        t = k * DT
        ego = ego_at(t, 15.0, 0.1)
        batches = [detections(t + 0.02, ego_at(t + 0.02, 15.0, 0.1), lead(t + 0.02), camera_cov, "camera")]
        if k < 20:
            batches.insert(0, detections(t, ego, lead(t)))
        tracker.update(batches, ego)
        ids |= {track.track_id for track in tracker.tracks()}
        if k >= 2:
            assert only_track(tracker).status == "confirmed"
    assert ids == {1}

def test_camera_alone_keeps_a_track_output_under_the_lidars_eyes_only_briefly():
    """A car hidden from the lidar by a nearer one (so lidar misses say little) but still detected by
    the camera is output for ``unconfirmed_frames`` lidar frames, then withheld until the lidar sees
    it again; with the lidar blacked out instead (no frames at all) the camera carries it on."""
    camera_cov = np.diag([1.5 ** 2, 0.2 ** 2])
    for lidar_frames, expected_end in ((True, 0), (False, 1)):
        tracker = MultiObjectTracker(TrackerConfig(unconfirmed_frames=5))
        out = []
        for k in range(30):
            t = k * DT
            ego = ego_at(t, 10.0)
            near, far = [ego.x_m + 12.0, 0.0], [ego.x_m + 30.0, 0.0]
            lidar = detections(t, ego, [near, far] if k < 10 else [near])
            batches = ([lidar] if lidar_frames or k < 10 else []) + [
                detections(t, ego, [far], camera_cov, "camera", score=0.8)]
            tracker.update(batches, ego)
            out.append(sum(abs(tr.x_m - far[0]) < 2.0 for tr in tracker.tracks()))
        assert out[9] == 1 and out[13] == 1, out  # carried by the camera
        assert out[-1] == expected_end, out

def _camera_birth(lidar_stamps: list[float]) -> int:
    """Tracks after a lone camera detection 25 m ahead at t = 0.3 s, with lidar frames (empty) at the given stamps."""
    tracker = MultiObjectTracker(INSTANT)
    for stamp in lidar_stamps:
        ego = ego_at(stamp)
        tracker.update([detections(stamp, ego, np.zeros((0, 2)))], ego)
    ego = ego_at(0.3)
    tracker.update([detections(0.3, ego, [ego.x_m + 25.0, 0.0], source="camera", score=0.9)], ego)
    return len(tracker.tracks())

def test_the_camera_starts_no_track_where_the_lidar_looks_but_does_in_a_lidar_blackout():
    assert _camera_birth([0.0, 0.1, 0.2, 0.3]) == 0  # the lidar saw nothing there a moment ago
    assert _camera_birth([]) == 1                     # no lidar frame at all: the camera alone
    assert _camera_birth([0.0]) == 1                  # the last lidar frame is 0.3 s old: a blackout

def test_a_camera_outlier_is_down_weighted_not_taken_at_face_value():
    cov = 1.0 ** 2 * np.eye(2)
    shifts = {}
    for robust in (True, False):
        model = SensorModel("camera", floor_m2=0.0, noise_scale=1.0, inflates=not robust, confirms=False)
        tracker = MultiObjectTracker(replace(INSTANT, sensors=(model,), max_inflation=1.0, gate_chi2=1e6))
        for k in range(20):  # a settled, parked target at (30, 0)
            e = EgoState(k * DT, 0.0, 0.0, 0.0, 0.0)
            tracker.update([detections(k * DT, e, [30.0, 0.0], cov_ego=cov, source="camera")], e)
        e = EgoState(2.0, 0.0, 0.0, 0.0, 0.0)
        tracker.update([detections(2.0, e, [30.0, 6.0], cov_ego=cov, source="camera")], e)  # 6 sigma off
        shifts[robust] = only_track(tracker).y_m
    assert 0.0 < shifts[True] < 0.5 * shifts[False]
