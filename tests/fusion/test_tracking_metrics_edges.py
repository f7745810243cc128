"""CLEAR-MOT and IDF1 at their edges, worked out by hand: a pair exactly at the 2 m threshold, ground
truth exactly at the 50 m range, half-open range bins, a kept and a new match in one frame, and
identity precision and recall that differ."""
import pytest

from fusion.tracking_metrics import MotAccumulator


def _counts(s: dict) -> tuple:
    return s["num_gt"], s["num_matches"], s["num_misses"], s["num_false_positives"], s["num_switches"]


def test_a_hypothesis_exactly_at_the_threshold_matches_and_keeps_its_object():
    acc = MotAccumulator()                                             # 2 m threshold
    acc.add_frame([1], [[10.0, 0.0]], [7], [[12.0, 0.0]])              # 2.0 m: a match
    acc.add_frame([1], [[11.0, 0.0]], [7, 8], [[13.0, 0.0], [11.5, 0.0]])   # 7 still at 2.0 m keeps it; 8 is a FP
    acc.add_frame([1], [[12.0, 0.0]], [9], [[14.5, 0.0]])              # 2.5 m: a miss and a FP
    s = acc.summary()
    assert _counts(s) == (3, 2, 1, 2, 0)
    assert s["mota"] == 0.0 and s["motp_m"] == pytest.approx(2.0)
    # IDTP 2 (object 1 <-> 7), IDFN 3 - 2 = 1, IDFP 4 - 2 = 2 -> IDF1 4 / 7
    assert (s["idtp"], s["idfn"], s["idfp"]) == (2, 1, 2) and s["idf1"] == pytest.approx(4 / 7)


def test_ground_truth_exactly_at_the_maximum_range_counts():
    acc = MotAccumulator()                                             # 50 m range
    acc.add_frame([1, 2, 3], [[50.0, 0.0], [0.0, 50.0], [0.0, -50.5]],  # 3 is beyond: don't-care
                  [7, 8], [[50.5, 0.0], [-50.0, 0.0]])                 # 7 on object 1, 8 a FP at 50 m
    s = acc.summary()
    assert _counts(s) == (2, 1, 1, 1, 0) and s["mota"] == 0.0
    assert (s["num_objects"], s["num_hypotheses"], s["idf1"]) == (2, 2, 0.5)


def test_identity_precision_and_recall():
    acc = MotAccumulator()
    for k, (hyp_ids, hyp_xy) in enumerate([([7, 9], [[10.0, 0.0], [0.0, 15.0]]), ([7], [[11.0, 0.0]]),
                                           ([8], [[12.0, 0.0]])]):
        acc.add_frame([1, 2], [[10.0 + k, 0.0], [30.0 + k, 0.0]], hyp_ids, hyp_xy)   # object 2 never found
    s = acc.summary()
    assert _counts(s) == (6, 3, 3, 1, 1) and s["mota"] == pytest.approx(1 / 6)   # 1 - (3 + 1 + 1) / 6
    # object frames 6, hypothesis frames 4 (7: 2, 9: 1, 8: 1); object 1 <-> 7 for 2 frames
    assert (s["idtp"], s["idfn"], s["idfp"]) == (2, 4, 2)
    assert s["idp"] == pytest.approx(2 / 4) and s["idr"] == pytest.approx(2 / 6) and s["idf1"] == pytest.approx(0.4)
    assert (s["num_objects"], s["num_hypotheses"]) == (2, 3)


def test_a_kept_match_and_a_new_one_in_the_same_frame():
    acc = MotAccumulator()
    acc.add_frame([1], [[10.0, 0.0]], [7], [[10.0, 0.0]])
    acc.add_frame([1, 2], [[11.0, 0.0], [30.0, 0.0]], [7, 8], [[11.0, 0.0], [30.5, 0.0]])
    s = acc.summary()
    assert _counts(s) == (3, 3, 0, 0, 0) and s["mota"] == 1.0
    assert s["motp_m"] == pytest.approx(0.5 / 3)


def test_range_bins_are_half_open():
    acc = MotAccumulator()
    acc.add_frame([1, 2], [[20.0, 0.0], [0.0, 39.5]], [7, 8], [[20.5, 0.0], [40.0, 0.0]])   # 8: a FP at 40 m
    near, mid, far = (acc.summary()["by_range"][k] for k in ("0-20", "20-40", "40-60"))
    assert _counts(near) == (0, 0, 0, 0, 0)
    assert _counts(mid) == (2, 1, 1, 0, 0)
    assert _counts(far) == (0, 0, 0, 1, 0)


def test_bad_frames_say_what_is_wrong():
    with pytest.raises(ValueError, match="^2 ids but 1 positions$"):
        MotAccumulator().add_frame([1, 2], [[0.0, 0.0]], [], [])
    with pytest.raises(ValueError, match="^ids must be unique within a frame$"):
        MotAccumulator().add_frame([], [], [3, 3], [[0.0, 0.0], [1.0, 0.0]])
