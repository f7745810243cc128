"""The tracker's compiled kernels against the textbook matrix formulas written here with numpy, and the
box overlap against the polygon clipping the KITTI evaluator uses (an independent implementation)."""
import numpy as np
import pytest

from fusion import kernels as K
from perception.geometry import convex_quad_intersection


def _spd(rng, n, k, scale=1.0):
    A = rng.normal(0.0, scale, (n, k, k))
    return A @ A.transpose(0, 2, 1) + 0.1 * np.eye(k)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_innovations_match_the_explicit_inverse(rng):
    xs, Ps, z, R = rng.normal(0, 5, (6, 4)), _spd(rng, 6, 4), rng.normal(0, 5, (9, 2)), _spd(rng, 9, 2, 0.5)
    d2, log_det = K.innovation_matrix(xs, Ps, z, R)
    for i in range(6):
        for j in range(9):
            S, v = Ps[i, :2, :2] + R[j], z[j] - xs[i, :2]
            assert d2[i, j] == pytest.approx(v @ np.linalg.inv(S) @ v, rel=1e-9)
            assert log_det[i, j] == pytest.approx(np.log(np.linalg.det(S)), abs=1e-9)


def test_correction_matches_the_textbook_kalman_update_in_joseph_form(rng):
    x, P, z, R = rng.normal(0, 5, (5, 4)), _spd(rng, 5, 4), rng.normal(0, 5, (5, 2)), _spd(rng, 5, 2, 0.5)
    H = np.eye(2, 4)
    x1, P1 = x.copy(), P.copy()
    K.correct_in_place(x1, P1, np.zeros(5), np.arange(5), z, R, np.zeros(5, bool), 9.0, 50.0, np.zeros(5), 0.0, 1.0)
    for m in range(5):
        K_gain = P[m] @ H.T @ np.linalg.inv(H @ P[m] @ H.T + R[m])
        I_KH = np.eye(4) - K_gain @ H
        np.testing.assert_allclose(x1[m], x[m] + K_gain @ (z[m] - H @ x[m]), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(P1[m], I_KH @ P[m] @ I_KH.T + K_gain @ R[m] @ K_gain.T, rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(P1[m], P1[m].T)


def test_prediction_is_the_constant_velocity_model_with_heading_aligned_noise(rng):
    x, P, dt, heading = rng.normal(0, 5, (4, 4)), _spd(rng, 4, 4), 0.1, rng.uniform(-np.pi, np.pi, 4)
    x1, P1 = K.predict(x, P, dt, heading, 2.0, 0.5)
    F = np.eye(4) + dt * np.eye(4, k=2)
    G = np.vstack([0.5 * dt * dt * np.eye(2), dt * np.eye(2)])
    for t in range(4):
        c, s = np.cos(heading[t]), np.sin(heading[t])
        rot = np.array([[c, -s], [s, c]])
        Q = G @ rot @ np.diag([4.0, 0.25]) @ rot.T @ G.T
        np.testing.assert_allclose(x1[t], F @ x[t], rtol=1e-12)
        np.testing.assert_allclose(P1[t], F @ P[t] @ F.T + Q, rtol=1e-9, atol=1e-12)


def test_inflation_brings_an_improbable_innovation_to_the_target_and_caps_it(rng):
    P, R = _spd(rng, 3, 4, 0.3), _spd(rng, 3, 2, 0.1)
    v = np.array([[3.0, -1.0], [0.1, 0.0], [40.0, 40.0]])
    lam = [K.inflation_factor(v[m, 0], v[m, 1], P[m], R[m], 9.0, 50.0, 40) for m in range(3)]
    d2 = v[0] @ np.linalg.inv(lam[0] * P[0, :2, :2] + R[0]) @ v[0]
    assert d2 == pytest.approx(9.0, rel=1e-3) and lam[0] > 1.0
    assert lam[1] == 1.0 and lam[2] == 50.0  # already probable; capped at the largest factor


def test_correction_in_place_inflates_updates_and_turns_the_yaw_towards_the_heading(rng):
    x, P = np.array([[0.0, 0.0, 10.0, 0.0], [5.0, 5.0, 0.0, 0.0]]), _spd(rng, 2, 4, 0.3)
    z, R = np.array([[3.0, 0.5], [5.2, 5.1]]), _spd(rng, 2, 2, 0.1)
    x0, P0, yaw = x.copy(), P.copy(), np.array([3.0, 0.2])
    K.correct_in_place(x, P, yaw, np.array([0, 1]), z, R, np.array([True, False]), 9.0, 50.0,
                       np.array([0.1, 0.4]), 0.5, 1.0)
    lam = K.inflation_factor(z[0, 0] - x0[0, 0], z[0, 1] - x0[0, 1], P0[0], R[0], 9.0, 50.0)
    x_ref, P_ref = x0.copy(), P0 * np.array([lam, 1.0])[:, None, None]  # the same update, inflated by hand
    K.correct_in_place(x_ref, P_ref, np.zeros(2), np.array([0, 1]), z, R, np.zeros(2, bool), 9.0, 50.0,
                       np.zeros(2), 0.0, 1.0)
    np.testing.assert_allclose(x, x_ref, rtol=1e-12)
    np.testing.assert_allclose(P, P_ref, rtol=1e-12)
    heading, moving = K.headings(x, P, np.array([3.0, 0.2]), 1.0)
    assert moving.tolist() == [True, False] and heading[1] == 0.2  # a parked track keeps its yaw as heading
    # moving: its own yaw 3.0 is turned by pi (nearer its heading), then halfway to the detection's 0.1
    own = 3.0 - np.pi
    assert yaw[0] == pytest.approx(own + 0.5 * (0.1 - own))
    assert yaw[1] == pytest.approx(0.3)  # parked: its yaw as it was, halfway to the detection's


def _corners(xy, lw, yaw):
    c, s = np.cos(yaw), np.sin(yaw)
    half = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]]) * 0.5 * lw
    return xy + half @ np.array([[c, s], [-s, c]])


def test_box_overlap_matches_the_polygon_clipping_of_the_kitti_evaluator(rng):
    n = 300
    xy_a, xy_b = rng.uniform(-2, 2, (n, 2)), rng.uniform(-2, 2, (n, 2))
    lw_a, lw_b = rng.uniform([3.0, 1.5], [6.0, 2.5], (n, 2)), rng.uniform([3.0, 1.5], [6.0, 2.5], (n, 2))
    yaw_a = rng.uniform(-np.pi, np.pi, n)
    yaw_b = yaw_a + np.where(rng.random(n) < 0.5, rng.normal(0.0, 0.03, n), rng.uniform(-np.pi, np.pi, n))
    a = np.stack([_corners(xy_a[k], lw_a[k], yaw_a[k]) for k in range(n)])
    b = np.stack([_corners(xy_b[k], lw_b[k], yaw_b[k]) for k in range(n)])
    inter = convex_quad_intersection(a, b)
    iou_ref = inter / (lw_a.prod(1) + lw_b.prod(1) - inter)
    iou = np.array([K.overlap_matrix(xy_a[k:k + 1], lw_a[k:k + 1], yaw_a[k:k + 1], xy_b[k:k + 1], lw_b[k:k + 1],
                                     yaw_b[k:k + 1])[0][0, 0] for k in range(n)])
    turned = np.abs((2 * (yaw_b - yaw_a) + np.pi) % (2 * np.pi) - np.pi) / 2 >= K.ALIGNED_RAD
    assert turned.sum() > 100 and (~turned).sum() > 100 and (iou_ref > 0).sum() > 200
    np.testing.assert_allclose(iou[turned], iou_ref[turned], atol=1e-9)  # exact polygons
    np.testing.assert_allclose(iou[~turned], iou_ref[~turned], atol=0.03)  # taken as aligned


def test_generalised_iou_of_aligned_boxes_counts_the_empty_share_of_the_enclosing_box():
    one = np.array([[4.0, 2.0]])
    iou, giou = K.overlap_matrix(np.zeros((1, 2)), one, np.zeros(1), np.array([[2.0, 0.0]]), one, np.zeros(1))
    assert iou[0, 0] == pytest.approx(4.0 / 12.0) and giou[0, 0] == pytest.approx(4.0 / 12.0)  # hull = union
    iou, giou = K.overlap_matrix(np.zeros((1, 2)), one, np.zeros(1), np.array([[3.0, 1.0]]), one, np.zeros(1))
    assert iou[0, 0] == pytest.approx(1.0 / 15.0) and giou[0, 0] == pytest.approx(1.0 / 15.0 - (21.0 - 15.0) / 21.0)
    far = K.overlap_matrix(np.zeros((1, 2)), one, np.zeros(1), np.array([[9.0, 0.0]]), one, np.array([1.0]))
    assert far[0][0, 0] == 0.0 and far[1][0, 0] == -1.0  # bounds apart: the polygons are never clipped


def test_visibility_hides_the_share_of_a_far_box_behind_a_nearer_confident_one():
    rel = np.array([[10.0, 0.0], [30.0, 0.0], [30.0, 10.0]])
    vis = K.visibility(rel, np.full(3, 1.0), np.array([True, True, True]))
    assert vis[0] == 1.0 and vis[2] == 1.0 and vis[1] == 0.0  # the near car covers the far one's whole extent
    assert K.visibility(rel, np.full(3, 1.0), np.array([False, True, True]))[1] == 1.0


def test_sensor_view_places_boxes_in_the_sensor_frame_before_binning_and_occluding():
    from fusion.sensor_model import LIDAR
    # the sensor at (100, 50) looking along +y: a car 10 m ahead of it, one 30 m ahead behind it, one 90 m away
    xy = np.array([[100.0, 60.0], [100.0, 80.0], [100.0, 140.0]])
    lw = np.tile([4.5, 1.9], (3, 1))
    bins, inside, visible = LIDAR.view(xy, (100.0, 50.0, np.pi / 2), lw, np.ones(3, bool))
    assert bins.tolist() == [1, 3, len(LIDAR.p_detect) - 1] and inside.tolist() == [True, True, False]
    assert visible[0] == 1.0 and visible[1] == 0.0  # the near car covers the far one's whole extent
    rel = np.array([[10.0, 0.0], [30.0, 0.0], [90.0, 0.0]])
    np.testing.assert_array_equal(bins, LIDAR.coverage(rel)[0])
