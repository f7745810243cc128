"""Detection metrics on tiny hand-built scenes whose AP and errors follow by hand: who is detectable,
greedy matching by score, half-open range bins, and the 101-point interpolated AP."""
import numpy as np
import pytest

from perception.detections import Detections
from perception.evaluation import average_precision, detectable, evaluate
from perception.frames import BoxLabels


KEYS = {"ap", "ap_by_range", "visibility", "max_range_m", "n_gt", "n_tp_at_2m", "mean_translation_error_m",
        "mean_size_error_m", "mean_yaw_error_rad"}


def _labels(xy, yaw=None, size=None, lidar_points=None, visible=None) -> BoxLabels:
    xy = np.asarray(xy, float).reshape(-1, 2)
    n = len(xy)
    return BoxLabels(np.arange(n), np.column_stack([xy, np.full(n, 0.8)]),
                     np.tile([5.0, 2.0, 1.6], (n, 1)) if size is None else np.asarray(size, float),
                     np.zeros(n) if yaw is None else np.asarray(yaw, float), np.zeros((n, 2)),
                     np.full(n, 30) if lidar_points is None else np.asarray(lidar_points),
                     np.ones((n, 1)) if visible is None else np.asarray(visible, float))


def _dets(xy, scores=None, yaw=None, size=None) -> Detections:
    xy = np.asarray(xy, float).reshape(-1, 2)
    n = len(xy)
    return Detections(0.0, "test", np.column_stack([xy, np.full(n, 0.8)]),
                      np.tile([5.0, 2.0, 1.6], (n, 1)) if size is None else np.asarray(size, float),
                      np.zeros(n) if yaw is None else np.asarray(yaw, float),
                      np.ones(n) if scores is None else np.asarray(scores, float), np.tile(np.eye(2), (n, 1, 1)))


def test_perfect_detections_score_one():
    gt = [(10.0, 0.0), (25.0, 4.0), (45.0, -4.0)]
    res = evaluate([(_dets(gt), _labels(gt))])
    assert all(ap == pytest.approx(1.0) for ap in res["ap"].values())
    assert res["mean_translation_error_m"] == pytest.approx(0.0)


def test_thresholds_decide_what_counts_as_a_match():
    gt = [(10.0, 0.0), (30.0, 0.0)]
    res = evaluate([(_dets([(11.5, 0.0), (31.5, 0.0)]), _labels(gt))])
    assert res["ap"][1.0] == 0.0 and res["ap"][2.0] == pytest.approx(1.0)
    assert res["mean_translation_error_m"] == pytest.approx(1.5)


def test_false_positives_ranked_first_lower_ap_and_undetectable_truth_is_ignored():
    gt = [(10.0, 0.0), (20.0, 0.0), (30.0, 8.0)]
    labels = _labels(gt, lidar_points=[40, 40, 0])              # the third car has no lidar returns
    dets = _dets([(10.0, 0.0), (20.0, 0.0), (15.0, -8.0), (30.0, 8.0)], scores=[0.5, 0.4, 0.9, 0.8])
    res = evaluate([(dets, labels)])
    # ranked: FP (0.9), ignored match (0.8), TP, TP -> precision 1/2 then 2/3 at full recall
    assert res["ap"][2.0] == pytest.approx(np.mean([2 / 3] * 101))
    assert res["n_gt"] == 2


def test_range_bins_split_ground_truth_by_distance():
    gt = [(10.0, 0.0), (30.0, 0.0), (50.0, 0.0)]
    res = evaluate([(_dets(gt[:2]), _labels(gt))], max_range_m=60.0)
    assert res["ap_by_range"]["0-20 m"][2.0] == pytest.approx(1.0)
    assert res["ap_by_range"]["40-60 m"][2.0] == 0.0
    assert res["ap"][2.0] == pytest.approx(np.mean(np.arange(101) / 100 <= 2 / 3))


def test_average_precision_edge_cases():
    assert np.isnan(average_precision([], [], 0))
    assert average_precision([], [], 3) == 0.0


def test_what_each_sensor_could_detect():
    labels = _labels([(10, 0)] * 4, lidar_points=[0, 1, 0, 3],
                     visible=[[0.05, 0.3], [0.1, 0.0], [0.0, 0.1], [0.0, 0.0]])
    assert detectable(labels, "lidar").tolist() == [False, True, False, True]
    assert detectable(labels, "camera").tolist() == [True, False, False, False]   # more than 10 % seen
    assert detectable(labels, "any").tolist() == [True, True, False, True]


def test_without_cameras_nothing_is_visible_to_a_camera():
    labels = _labels([(10, 0), (20, 0), (30, 0)], lidar_points=[5, 0, 5], visible=np.zeros((3, 0)))
    assert detectable(labels, "any").tolist() == [True, False, True]
    res = evaluate([(_dets([(10, 0)]), labels)], visibility="camera")
    assert res["n_gt"] == 0 and np.isnan(res["ap"][2.0])


def test_a_truth_goes_to_the_best_scored_detection_and_the_other_is_a_false_positive():
    res = evaluate([(_dets([(10.2, 0.0), (10.1, 0.0)], scores=[0.9, 0.3]), _labels([(10, 0)]))])
    assert res["ap"] == {0.5: 1.0, 1.0: 1.0, 2.0: 1.0, 4.0: 1.0}    # TP ranked above the FP
    assert res["n_tp_at_2m"] == 1 and res["mean_translation_error_m"] == pytest.approx(0.2)


def test_a_centre_exactly_at_the_threshold_is_no_match():
    res = evaluate([(_dets([(12.0, 0.0)]), _labels([(10, 0)]))])
    assert res["ap"] == {0.5: 0.0, 1.0: 0.0, 2.0: 0.0, 4.0: 1.0}
    assert res["n_tp_at_2m"] == 0
    assert all(np.isnan(res[k]) for k in ("mean_translation_error_m", "mean_size_error_m", "mean_yaw_error_rad"))


def test_true_positive_errors_are_taken_at_the_2_m_threshold():
    labels = _labels([(10, 0), (20, 0), (30, 0)], yaw=[0.5, np.pi - 0.1, 0.0])
    dets = _dets([(10.6, 0.8), (20, 0), (33, 0)], yaw=[0.8, -np.pi + 0.1, 0.0],
                 size=[[5.6, 2.3, 1.6], [5.0, 2.0, 1.6], [5.0, 2.0, 1.6]])
    res = evaluate([(dets, labels)])
    assert set(res) == KEYS and (res["visibility"], res["max_range_m"]) == ("lidar", 50.0)
    assert (res["n_gt"], res["n_tp_at_2m"]) == (3, 2)          # the third is 3 m off: a match at 4 m only
    assert res["mean_translation_error_m"] == pytest.approx(0.5)    # 1.0 and 0.0
    assert res["mean_size_error_m"] == pytest.approx(0.15)          # (0.6 + 0.3) / 3 and 0
    assert res["mean_yaw_error_rad"] == pytest.approx(0.25)         # 0.3 and 0.2 across +-pi


def test_truth_is_counted_over_all_frames():
    frames = [(_dets([(10, 0)]), _labels([(10, 0)])), (_dets(np.zeros((0, 2))), _labels([(10, 0)]))]
    assert evaluate(frames)["ap"][2.0] == pytest.approx(51 / 101)   # recall 0.5: precision 1 up to it, 0 after


def test_detections_in_a_frame_without_truth_are_false_positives():
    frames = [(_dets([(10, 0)], scores=[0.5]), _labels([(10, 0)])),
              (_dets([(10, 0)], scores=[0.9]), _labels(np.zeros((0, 2))))]
    assert evaluate(frames)["ap"][2.0] == pytest.approx(0.5)


def test_a_phantom_at_the_ego_counts_and_truth_beyond_the_range_does_not():
    labels = _labels([(10, 0), (50.5, 0)])
    res = evaluate([(_dets([(0.3, 0.0), (10, 0)], scores=[0.9, 0.5]), labels)])
    assert res["n_gt"] == 1 and res["ap"][2.0] == pytest.approx(0.5)


def test_truth_on_a_bin_edge_belongs_to_the_farther_bin():
    res = evaluate([(_dets([(20, 0)]), _labels([(20, 0)]))])
    assert np.isnan(res["ap_by_range"]["0-20 m"][2.0])
    assert res["ap_by_range"]["20-40 m"][2.0] == 1.0


def test_a_false_positive_on_a_bin_edge_counts_in_the_farther_bin():
    dets = _dets([(10, 0), (20, 0), (30, 0)], scores=[0.9, 0.95, 0.9])
    res = evaluate([(dets, _labels([(10, 0), (30, 0)]))])
    assert res["ap_by_range"]["0-20 m"][2.0] == 1.0
    assert res["ap_by_range"]["20-40 m"][2.0] == pytest.approx(0.5)


@pytest.mark.parametrize("scores, tp, n_gt, ap", [
    ([0.2, 0.9], [True, False], 1, 0.5),                          # ranked by score, not by input order
    ([0.9, 0.8, 0.2], [0, 1, 1], 2, 2 / 3),                       # 0/1 flags read as booleans
    ([0.9, 0.8, 0.7], [True, False, True], 2, (51 + 50 * 2 / 3) / 101),   # precision interpolated from the right
    ([0.9], [True], 4, 26 / 101),                                 # recall 0.25: points above it score 0
    # ties keep the order given: 7 TPs at 0.6, then at 0.5 the FP listed first and 12 TPs (precision 19/20)
    ([0.6 if i % 3 == 0 else 0.5 for i in range(20)], [i != 1 for i in range(20)], 19, (37 + 64 * 0.95) / 101),
])
def test_average_precision_by_hand(scores, tp, n_gt, ap):
    assert average_precision(scores, tp, n_gt) == pytest.approx(ap)
