"""Average precision by centre distance on hand-built detections and labels."""
import numpy as np
import pytest

from perception.detections import Detections
from perception.evaluation import average_precision, evaluate
from perception.frames import BoxLabels


def _labels(xy, lidar_points=None):
    n = len(xy)
    xy = np.asarray(xy, float).reshape(-1, 2)
    pts = np.full(n, 50) if lidar_points is None else np.asarray(lidar_points)
    return BoxLabels(np.arange(1, n + 1), np.column_stack([xy, np.full(n, 0.8)]), np.tile([5.0, 2.0, 1.6], (n, 1)),
                     np.zeros(n), np.zeros((n, 2)), pts, np.ones((n, 1)))


def _dets(xy, scores=None):
    xy = np.asarray(xy, float).reshape(-1, 2)
    n = len(xy)
    return Detections(0.0, "test", np.column_stack([xy, np.full(n, 0.8)]), np.tile([5.0, 2.0, 1.6], (n, 1)),
                      np.zeros(n), np.ones(n) if scores is None else np.asarray(scores, float), np.tile(np.eye(2), (n, 1, 1)))


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
