"""CLEAR-MOT and IDF1 on hand-built sequences whose numbers are worked out in the comments."""
import json

import pytest

from fusion.tracking_metrics import MotAccumulator


def test_perfect_tracking_scores_one():
    acc = MotAccumulator()
    for k in range(5):
        # Each hypothesis sits (0.3, 0.4) m off its object: 0.5 m error, well inside the 2 m threshold.
        acc.add_frame([1, 2], [[10.0 + k, 0.0], [30.0 + k, 3.5]], [7, 8], [[10.3 + k, 0.4], [30.3 + k, 3.9]])
    s = acc.summary()
    assert s["mota"] == 1.0 and s["idf1"] == 1.0 and s["precision"] == 1.0 and s["recall"] == 1.0
    assert s["motp_m"] == pytest.approx(0.5)
    assert (s["num_gt"], s["num_matches"], s["num_switches"], s["num_frames"]) == (10, 10, 0, 5)


def test_one_id_switch_mid_sequence():
    acc = MotAccumulator()
    for k in range(6):
        acc.add_frame([1], [[10.0 + k, 0.0]], [1 if k < 3 else 2], [[10.0 + k, 0.0]])
    s = acc.summary()
    # MOTA = 1 - 1 switch / 6 objects; IDF1: gt 1 <-> hyp 1 for 3 frames: IDTP 3, IDFN 3, IDFP 3 -> 6 / 12.
    assert s["num_switches"] == 1
    assert s["mota"] == pytest.approx(5 / 6)
    assert (s["idtp"], s["idfn"], s["idfp"]) == (3, 3, 3)
    assert s["idf1"] == pytest.approx(0.5)
    assert s["motp_m"] == 0.0


def test_previous_correspondence_is_kept_while_within_threshold():
    acc = MotAccumulator()
    acc.add_frame([1], [[10.0, 0.0]], [1], [[10.0, 0.0]])
    # Hypothesis 2 is nearer now, but 1 is still within 2 m, so 1 keeps the object and 2 is a false positive.
    acc.add_frame([1], [[11.0, 0.0]], [1, 2], [[12.5, 0.0], [11.2, 0.0]])
    s = acc.summary()
    assert (s["num_switches"], s["num_false_positives"], s["num_matches"]) == (0, 1, 2)
    assert s["mota"] == pytest.approx(0.5)  # 1 - 1 FP / 2 objects
    assert s["motp_m"] == pytest.approx(0.75)  # (0 + 1.5) / 2


def test_false_positives_and_misses_are_counted():
    acc = MotAccumulator(threshold_m=2.0)
    acc.add_frame([1], [[10.0, 0.0]], [5], [[10.0, 0.0]])
    acc.add_frame([1], [[10.0, 0.0]], [5, 9], [[10.0, 0.0], [25.0, 5.0]])  # 9: a false positive
    acc.add_frame([1], [[10.0, 0.0]], [5], [[12.5, 0.0]])  # 2.5 m off: a miss and a false positive
    acc.add_frame([1], [[10.0, 0.0]], [5], [[10.0, 0.0]])
    s = acc.summary()
    assert (s["num_gt"], s["num_matches"], s["num_misses"], s["num_false_positives"]) == (4, 3, 1, 2)
    assert s["num_switches"] == 0  # hypothesis 5 is back on its object: no switch
    assert s["mota"] == pytest.approx(0.25)  # 1 - (1 + 2) / 4
    assert s["precision"] == pytest.approx(3 / 5) and s["recall"] == pytest.approx(3 / 4)
    # IDTP 3 (frames 0, 1, 3), IDFN 4 - 3 = 1, IDFP (4 + 1) - 3 = 2 -> IDF1 = 6 / 9.
    assert s["idf1"] == pytest.approx(2 / 3)


def test_frame_matching_is_globally_optimal():
    acc = MotAccumulator()
    # Greedy nearest-first would give gt 1 to hypothesis 1 (1.1 m) and leave gt 2 (2.9 m from 2) unmatched.
    acc.add_frame([1, 2], [[0.0, 0.0], [2.0, 0.0]], [1, 2], [[1.1, 0.0], [-0.8, 0.0]])
    s = acc.summary()
    assert s["num_matches"] == 2 and s["mota"] == 1.0
    assert s["motp_m"] == pytest.approx((0.8 + 0.9) / 2)


def test_range_bins_and_dont_care_beyond_max_range():
    acc = MotAccumulator(threshold_m=2.0, max_range_m=50.0)
    ego = (100.0, 50.0)
    gt_ids = [1, 2, 3, 4]
    gt_xy = [[110.0, 50.0],   # range 10: matched by 11
             [100.0, 80.0],   # range 30: missed
             [155.0, 50.0],   # range 55: don't-care, matched by 13
             [100.0, 5.0]]    # range 45: matched by 14
    hyp_ids = [11, 13, 14, 15, 16]
    hyp_xy = [[110.5, 50.0], [155.3, 50.0], [100.0, 5.5],
              [145.0, 50.0],  # range 45, on nothing: a false positive
              [170.0, 50.0]]  # range 70, on nothing: ignored
    acc.add_frame(gt_ids, gt_xy, hyp_ids, hyp_xy, ego)
    s = acc.summary()
    assert (s["num_gt"], s["num_matches"], s["num_misses"], s["num_false_positives"]) == (3, 2, 1, 1)
    assert s["mota"] == pytest.approx(1 / 3) and s["motp_m"] == pytest.approx(0.5)
    # Identity counts only objects and hypotheses that count: gts 1, 2, 4; hyps 11, 14, 15 -> 4 / (4 + 1 + 1).
    assert s["num_hypotheses"] == 3 and s["idf1"] == pytest.approx(2 / 3)
    near, mid, far = (s["by_range"][k] for k in ("0-20", "20-40", "40-60"))
    assert (near["num_gt"], near["num_matches"], near["mota"], near["motp_m"]) == (1, 1, 1.0, 0.5)
    assert (mid["num_gt"], mid["num_misses"], mid["mota"], mid["motp_m"]) == (1, 1, 0.0, None)
    assert (far["num_gt"], far["num_matches"], far["num_false_positives"], far["mota"]) == (1, 1, 1, 0.0)
    json.dumps(s, allow_nan=False)


def test_empty_sequence_and_bad_input():
    s = MotAccumulator().summary()
    assert s["mota"] is None and s["idf1"] is None and s["num_gt"] == 0
    json.dumps(s, allow_nan=False)
    with pytest.raises(ValueError):
        MotAccumulator().add_frame([1, 2], [[0.0, 0.0]], [], [])
    with pytest.raises(ValueError):
        MotAccumulator().add_frame([1, 1], [[0.0, 0.0], [1.0, 0.0]], [], [])


def test_ignored_ground_truth_is_dont_care():
    acc = MotAccumulator(threshold_m=2.0)
    # gt 1 seen, gt 2 occluded (ignored): a hypothesis on gt 2 is no FP, missing it is no miss
    acc.add_frame([1, 2], [[10.0, 0.0], [20.0, 0.0]], [7, 8], [[10.2, 0.0], [20.1, 0.0]], gt_ignore=[False, True])
    acc.add_frame([1, 2], [[11.0, 0.0], [21.0, 0.0]], [7], [[11.1, 0.0]], gt_ignore=[False, True])
    s = acc.summary()
    assert s["num_gt"] == 2 and s["num_false_positives"] == 0 and s["num_misses"] == 0 and s["mota"] == 1.0
