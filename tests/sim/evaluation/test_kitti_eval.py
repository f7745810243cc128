"""KITTI 3-D MOT evaluator, on hand-built sequences whose figures can be counted by hand; and the
greedy baseline and project-tracker adapter on tiny synthetic detections."""

import numpy as np
import pytest

from sim.evaluation.kitti_baseline import greedy_baseline, run_project_tracker
from sim.evaluation.kitti_data import KittiBoxes, KittiSequence, make_boxes, read_labels, with_projected_bbox
from sim.evaluation.kitti_eval import (EvalRules, clear_mot, evaluate_kitti, export_kitti, format_table,
                                       recall_score_thresholds)
from sim.evaluation.kitti_geometry import iou3d_matrix, iou3d_pairs, project_to_image

P2 = np.array([[721.5377, 0.0, 609.5593, 44.85728],
               [0.0, 721.5377, 172.854, 0.2163791],
               [0.0, 0.0, 1.0, 0.002745884]])
"""KITTI sequence 0000's left colour camera."""


def car(x: float, z: float, ry: float = -np.pi / 2) -> np.ndarray:
    """A camera box ``x, y, z, h, w, l, rot_y`` standing on the road 1.7 m below the camera."""
    return np.array([x, 1.7, z, 1.5, 1.6, 3.9, ry])


def truth(frame: int, rows: list[tuple]) -> KittiBoxes:
    """Ground truth of one frame from rows (track_id, type, truncated, occluded, box7 or 2-D box)."""
    parts = []
    for track_id, kind, trunc, occ, box in rows:
        if kind == "DontCare":
            b = make_boxes(frame, np.zeros((1, 7)), [-1], obj_type=kind, bbox2d_px=np.array([box]))
        else:
            b = make_boxes(frame, box[None], [track_id], obj_type=kind)
        parts.append((b, trunc, occ))
    fields = {}
    for name in ("track_id", "obj_type", "bbox2d_px", "h_m", "w_m", "l_m", "x_m", "y_m", "z_m", "rot_y_rad",
                 "score"):
        fields[name] = np.concatenate([getattr(p[0], name) for p in parts]) if parts else getattr(
            KittiBoxes.empty(frame), name)
    return KittiBoxes(frame, truncated=np.array([float(p[1]) for p in parts]),
                      occluded=np.array([p[2] for p in parts], int), **fields)


def cars(frame: int, boxes: list[np.ndarray], ids: list[int], scores: list[float] | None = None) -> KittiBoxes:
    return make_boxes(frame, np.array(boxes).reshape(-1, 7), ids, np.ones(len(ids)) if scores is None else scores)


def sequence(labels: list[KittiBoxes]) -> KittiSequence:
    return KittiSequence("0000", tuple(labels), (), P2)


def moving_cars(n_frames: int, n_cars: int) -> list[list[np.ndarray]]:
    """Boxes per frame of ``n_cars`` cars 6 m apart, each driving away at 1 m per frame."""
    return [[car(-6.0 + 6.0 * k, 10.0 + f) for k in range(n_cars)] for f in range(n_frames)]


def perfect(n_frames: int = 20, n_cars: int = 3):
    boxes = moving_cars(n_frames, n_cars)
    labels = [truth(f, [(k, "Car", 0, 0, b) for k, b in enumerate(bs)]) for f, bs in enumerate(boxes)]
    outputs = [cars(f, bs, [7 + k for k in range(n_cars)], [0.9] * n_cars) for f, bs in enumerate(boxes)]
    return labels, outputs


# ------------------------------------------------------------------------------------------------ IoU

def test_iou_of_identical_disjoint_and_known_overlaps():
    a = car(0.0, 15.0, 0.3)
    assert iou3d_pairs(a[None], a[None])[0] == pytest.approx(1.0)
    assert iou3d_pairs(a[None], car(10.0, 15.0, 0.3)[None])[0] == 0.0
    # Shifted by a third of its length along its own length axis: overlap 2/3, union 4/3 of a volume.
    shifted = a.copy()
    shifted[0] += 3.9 / 3 * np.cos(0.3)
    shifted[2] -= 3.9 / 3 * np.sin(0.3)
    assert iou3d_pairs(a[None], shifted[None])[0] == pytest.approx(0.5)
    # Raised by half its height: overlap 1/2, union 3/2 of a volume.
    raised = a.copy()
    raised[1] -= 0.75
    assert iou3d_pairs(a[None], raised[None])[0] == pytest.approx(1.0 / 3.0)
    # A square footprint turned 45 degrees about its centre overlaps in a regular octagon: IoU 1/sqrt(2).
    square = np.array([0.0, 1.7, 15.0, 1.5, 2.0, 2.0, 0.0])
    turned = square + [0, 0, 0, 0, 0, 0, np.pi / 4]
    assert iou3d_pairs(square[None], turned[None])[0] == pytest.approx(1.0 / np.sqrt(2.0))
    # Heading reversed: the same box.
    assert iou3d_pairs(a[None], (a + [0, 0, 0, 0, 0, 0, np.pi])[None])[0] == pytest.approx(1.0)


def test_rotated_iou_is_symmetric_and_bounded():
    rng = np.random.default_rng(0)
    a = np.array([car(x, z, ry) for x, z, ry in rng.normal([0, 15, 0], [1.5, 1.5, 1.5], (30, 3))])
    b = np.array([car(x, z, ry) for x, z, ry in rng.normal([0, 15, 0], [1.5, 1.5, 1.5], (20, 3))])
    m = iou3d_matrix(a, b)
    assert m.shape == (30, 20)
    np.testing.assert_allclose(m, iou3d_matrix(b, a).T, atol=1e-12)
    assert m.min() >= 0.0 and m.max() <= 1.0 and m.max() > 0.3


# ----------------------------------------------------------------------------------------- evaluator

def test_perfect_tracking_scores_one():
    labels, outputs = perfect()
    for r in evaluate_kitti([sequence(labels)], [outputs]):
        assert (r.idsw, r.frag, r.fp, r.fn, r.tp, r.n_gt) == (0, 0, 0, 0, 60, 60)
        assert r.mota == pytest.approx(1.0) and r.motp == pytest.approx(1.0)
        assert r.samota == pytest.approx(1.0) and r.amota == pytest.approx(1.0)
        assert r.mostly_tracked == 1.0 and r.mostly_lost == 0.0


def test_id_swap_counts_switches_and_fragmentations():
    boxes = moving_cars(6, 2)
    labels = [truth(f, [(0, "Car", 0, 0, bs[0]), (1, "Car", 0, 0, bs[1])]) for f, bs in enumerate(boxes)]
    outputs = [cars(f, bs, [1, 2] if f < 3 else [2, 1]) for f, bs in enumerate(boxes)]
    m = clear_mot([sequence(labels)], [outputs])
    assert (m.idsw, m.frag, m.tp, m.fp, m.fn) == (2, 2, 12, 0, 0)
    assert m.mota == pytest.approx(1.0 - 2 / 12)


def test_one_miss_is_a_false_negative_and_a_fragmentation():
    boxes = moving_cars(6, 1)
    labels = [truth(f, [(0, "Car", 0, 0, bs[0])]) for f, bs in enumerate(boxes)]
    outputs = [cars(f, bs, [5]) if f != 2 else KittiBoxes.empty(f) for f, bs in enumerate(boxes)]
    m = clear_mot([sequence(labels)], [outputs])
    assert (m.idsw, m.frag, m.tp, m.fp, m.fn) == (0, 1, 5, 0, 1)


def test_track_change_after_a_miss_or_an_ignored_frame_is_no_switch():
    boxes = moving_cars(6, 1)
    labels = [truth(f, [(0, "Car", 0, 0, bs[0])]) for f, bs in enumerate(boxes)]
    gap = [cars(f, bs, [1 if f < 2 else 2]) if f != 2 else KittiBoxes.empty(f) for f, bs in enumerate(boxes)]
    m = clear_mot([sequence(labels)], [gap])
    assert (m.idsw, m.frag, m.fn) == (0, 1, 1)  # devkit: a switch needs a match in the frame before
    hidden = [truth(f, [(0, "Car", 0, 3 if f == 2 else 0, bs[0])]) for f, bs in enumerate(boxes)]
    relabelled = [cars(f, bs, [1 if f < 3 else 2]) for f, bs in enumerate(boxes)]
    m = clear_mot([sequence(hidden)], [relabelled])
    assert (m.idsw, m.frag, m.fn, m.n_gt) == (0, 0, 0, 5)  # the ignored frame resets the history


def test_crowded_frame_matches_each_output_once_and_within_the_threshold():
    labels = [truth(0, [(0, "Car", 0, 0, car(0.0, 15.0)), (1, "Car", 0, 0, car(1.6, 15.0))])]
    between = car(0.8, 15.0)  # IoU 1/3 with each car
    outputs = [[cars(0, [between, car(-8.0, 15.0)], [1, 2])]]
    m = clear_mot([sequence(labels)], outputs, iou_threshold=0.25)
    assert (m.tp, m.fn, m.fp) == (1, 1, 1)
    assert m.motp == pytest.approx(1.0 / 3.0)
    assert clear_mot([sequence(labels)], outputs, iou_threshold=0.5).tp == 0


def test_output_far_from_any_truth_is_a_false_positive():
    labels, outputs = perfect(n_frames=5, n_cars=1)
    ghost = car(8.0, 15.0)  # in view, ~70 px tall, 14 m from the car
    outputs = [cars(f, [o.boxes7()[0], ghost], [7, 99]) for f, o in enumerate(outputs)]
    m = clear_mot([sequence(labels)], [outputs])
    assert (m.tp, m.fp, m.fn) == (5, 5, 0)
    assert m.mota == pytest.approx(0.0)


def test_matches_to_ignored_truth_are_neither_tp_nor_fp():
    rows = [(0, "Car", 0, 0, car(-6.0, 12.0)), (1, "Van", 0, 0, car(0.0, 12.0)),
            (2, "Car", 1, 0, car(6.0, 12.0)), (3, "Car", 0, 3, car(0.0, 20.0))]
    labels = [truth(0, rows), truth(1, rows)]
    all_four = cars(0, [r[4] for r in rows], [10, 11, 12, 13])
    only_first = cars(1, [rows[0][4]], [10])
    m = clear_mot([sequence(labels)], [[all_four, only_first]])
    # Van, truncated and occluded (3) truth: matched in frame 0, missed in frame 1, never counted.
    assert (m.n_gt, m.tp, m.fp, m.fn, m.n_matches) == (2, 2, 0, 0, 5)
    assert m.mota == pytest.approx(1.0)


def test_small_or_dontcare_outputs_are_not_false_positives():
    far = car(2.0, 70.0)  # 1.5 m tall at 70 m: about 15 px
    near = car(6.0, 14.0)
    near_px = project_to_image(near[None], P2)[0]
    assert project_to_image(far[None], P2)[0, 3] - project_to_image(far[None], P2)[0, 1] <= 25
    region = near_px + [-5, -5, 5, 5]
    labels = [truth(0, [(0, "Car", 0, 0, car(-6.0, 12.0))])]
    outputs = [[cars(0, [car(-6.0, 12.0), far, near], [1, 2, 3])]]
    assert clear_mot([sequence(labels)], outputs).fp == 1  # the near one
    labels_dc = [truth(0, [(0, "Car", 0, 0, car(-6.0, 12.0)), (-1, "DontCare", -1, -1, region)])]
    assert clear_mot([sequence(labels_dc)], outputs).fp == 0
    # With the outputs' own (empty, 0 px) image boxes instead of projections, nothing is FP either.
    assert clear_mot([sequence(labels)], outputs, rules=EvalRules(project_outputs=False)).fp == 0


def test_score_sweep_removes_a_low_score_track():
    labels, outputs = perfect()
    ghost = car(12.0, 30.0)  # in view, ~40 px tall, far from every car
    with_ghost = [cars(f, list(o.boxes7()) + [ghost], [7, 8, 9, 50], [0.9, 0.9, 0.9, 0.1])
                  for f, o in enumerate(outputs)]
    unthresholded = clear_mot([sequence(labels)], [with_ghost])
    assert unthresholded.fp == 20 and unthresholded.mota == pytest.approx(1.0 - 20 / 60)
    r = evaluate_kitti([sequence(labels)], [with_ghost], iou_thresholds=(0.5,))[0]
    # Every recall point's threshold is a matched output's score (0.9): the 0.1 track never survives.
    assert r.fp == 0 and r.mota == pytest.approx(1.0) and r.score_threshold == pytest.approx(0.9)
    assert r.samota == pytest.approx(1.0) and r.amota == pytest.approx(1.0)


def test_recall_points_span_forty_steps():
    thresholds, recalls = recall_score_thresholds(np.arange(100, 0, -1.0), 100)
    assert len(thresholds) == 40
    np.testing.assert_allclose(recalls, np.arange(1, 41) / 40)
    assert np.all(np.diff(thresholds) < 0) and thresholds[-1] == 1.0


def test_format_table_has_a_row_per_threshold():
    labels, outputs = perfect(n_frames=3, n_cars=1)
    text = format_table(evaluate_kitti([sequence(labels)], [outputs]), "perfect")
    lines = text.splitlines()
    assert lines[0] == "perfect" and "sAMOTA" in lines[1] and len(lines) == 5
    assert lines[2].split()[0] == "0.25"


def test_export_kitti_writes_result_lines_the_reader_reads_back(tmp_path):
    boxes = moving_cars(3, 2)
    outputs = [cars(f, bs, [4, 9], [0.5, 2.25]) for f, bs in enumerate(boxes)]
    outputs = [with_projected_bbox(o, P2) for o in outputs]
    path = export_kitti(tmp_path / "data", "0003", outputs)
    assert path.name == "0003.txt"
    first = path.read_text().splitlines()[0].split()
    assert len(first) == 18 and first[:3] == ["0", "4", "Car"]
    back = read_labels(path)
    for o, b in zip(outputs, back):
        np.testing.assert_array_equal(b.track_id, o.track_id)
        np.testing.assert_allclose(b.boxes7(), o.boxes7(), atol=1e-5)
        np.testing.assert_allclose(b.score, o.score)
        np.testing.assert_allclose(b.bbox2d_px, o.bbox2d_px, atol=1e-3)


def test_mismatched_outputs_are_rejected():
    labels, outputs = perfect(n_frames=2, n_cars=1)
    with pytest.raises(ValueError, match="output sequences"):
        evaluate_kitti([sequence(labels)], [outputs, outputs])
    twice = [cars(0, [car(0, 10), car(5, 10)], [3, 3])] + outputs[1:]
    with pytest.raises(ValueError, match="frame 0"):
        evaluate_kitti([sequence(labels)], [twice])


# ----------------------------------------------------------------------------------------- trackers

def detections(boxes: list[list[np.ndarray]], logit: float = 5.0) -> list[KittiBoxes]:
    return [make_boxes(f, np.array(bs).reshape(-1, 7), score=np.full(len(bs), logit)) for f, bs in enumerate(boxes)]


def test_greedy_baseline_keeps_ids_through_two_missed_frames_not_three():
    frames = [[car(0, 15.0)], [car(0, 15.5)], [], [], [car(0, 16.0)], [], [], [], [car(0, 16.0)]]
    out = greedy_baseline(detections(frames))
    ids = [o.track_id.tolist() for o in out]
    assert ids[0] == ids[1] == ids[4] and ids[2] == ids[3] == []
    assert ids[8] != ids[4]  # three misses in a row: deleted, the next detection starts a new track
    np.testing.assert_allclose(out[1].boxes7(), [car(0, 15.5)])
    assert out[1].score[0] == 5.0


def test_greedy_baseline_pairs_closest_first_within_the_gate():
    frames = [[car(-5.0, 15.0), car(5.0, 15.0)], [car(4.0, 15.0), car(-5.5, 15.0), car(5.0, 30.0)],
              [car(10.0, 15.0)]]
    out = greedy_baseline(detections(frames))
    a, b = out[0].track_id
    assert out[1].track_id[0] == b and out[1].track_id[1] == a
    assert out[1].track_id[2] not in (a, b)  # 15 m from any track: a new one
    assert out[2].track_id[0] not in (a, b)  # 6 m jump: outside the 3 m gate


def test_greedy_baseline_is_greedy_not_optimal():
    # Tracks at x = 0 and 2; detections at 1.1 and 3.5. Closest pair first gives 1.1 to the track at 2,
    # and 3.5 m is then out of the gate for the track at 0 (an optimal assignment would take both).
    out = greedy_baseline(detections([[car(0.0, 15.0), car(2.0, 15.0)], [car(1.1, 15.0), car(3.5, 15.0)]]))
    left, right = out[0].track_id
    assert out[1].track_id[0] == right
    assert out[1].track_id[1] not in (left, right)


def test_project_tracker_outputs_its_tracks_as_camera_boxes_scored_by_existence():
    box = car(-3.0, 20.0, -1.4)
    frames = [[box]] * 8 + [[]] * 6
    seq = KittiSequence("0000", tuple(KittiBoxes.empty(f) for f in range(len(frames))),
                        tuple(detections(frames, 4.0)), P2)
    out = run_project_tracker(seq)
    assert len(out) == len(frames) and len(out[0]) == 1  # a confident detection is output at once
    assert len({int(o.track_id[0]) for o in out if len(o)}) == 1
    assert iou3d_pairs(out[7].boxes7(), box[None])[0] > 0.9  # the updated box, height and all
    scores = [float(o.score[0]) for o in out[:8]]
    assert scores == sorted(scores) and scores[-1] > scores[0]  # log-odds of existence grows with hits
    assert len(out[8]) == 1 and len(out[-1]) == 0  # coasts 0.2 s (sensor_frame preset), then withheld
    np.testing.assert_allclose(out[7].bbox2d_px, project_to_image(out[7].boxes7(), P2))
