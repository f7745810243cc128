"""Pinhole projection, mounting transforms and their round trips."""
import numpy as np

from perception import CameraCalibration, intrinsics, mount_transform, transform_points


def _front_camera(width=320, height=160, hfov_deg=90.0, z=1.4, pitch_deg=0.0):
    T = mount_transform((1.0, 0.0, z), 0.0, np.deg2rad(pitch_deg), optical=True)
    return CameraCalibration("front", intrinsics(width, height, np.deg2rad(hfov_deg)), width, height, T)


def test_point_on_the_optical_axis_projects_to_the_principal_point():
    cam = _front_camera()
    uv, depth = cam.project(np.array([[21.0, 0.0, 1.4]]))
    assert np.allclose(uv, [[160.0, 80.0]]) and np.isclose(depth[0], 20.0)


def test_left_and_up_map_to_smaller_u_and_v():
    cam = _front_camera()
    f = cam.K[0, 0]  # 160 px for a 90-degree field of view over 320 px
    uv, _ = cam.project(np.array([[11.0, 2.0, 1.4 + 1.0]]))  # 10 m ahead, 2 m left, 1 m up
    assert np.allclose(uv, [[160.0 - f * 0.2, 80.0 - f * 0.1]])


def test_project_unproject_round_trip_with_pitch():
    cam = _front_camera(pitch_deg=3.0)
    rng = np.random.default_rng(0)
    pts = np.column_stack([rng.uniform(5, 80, 50), rng.uniform(-10, 10, 50), rng.uniform(0, 3, 50)])
    uv, depth = cam.project(pts)
    assert np.allclose(cam.unproject(uv, depth), pts)


def test_mount_transform_inverse_round_trip():
    T = mount_transform((1.2, -0.3, 1.8), yaw_rad=0.4, pitch_rad=0.1)
    pts = np.random.default_rng(1).normal(size=(10, 3))
    assert np.allclose(transform_points(np.linalg.inv(T), transform_points(T, pts)), pts)
    assert np.allclose(T[:3, :3] @ T[:3, :3].T, np.eye(3))
