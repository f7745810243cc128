"""KITTI tracking readers, camera <-> ego conversions, projection; and the shared-data smoke check."""
from pathlib import Path

import numpy as np
import pytest

from sim.evaluation.kitti_baseline import greedy_baseline
from sim.evaluation.kitti_data import (load_sequence, load_sequences, read_calib_p2, read_detections, read_labels,
                                       read_seqmap)
from sim.evaluation.kitti_eval import evaluate_kitti
from sim.evaluation.kitti_geometry import (EgoBoxes, box_corners, cam_yaw_to_ego, camera_to_ego, ego_to_camera,
                                           ego_yaw_to_cam, project_to_image)

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "kitti_tracking_train"

LABELS = """\
0 -1 DontCare -1 -1 -10.000000 219.310000 188.490000 245.500000 218.560000 -1000.000000 -1000.000000 -1000.000000 -10.000000 -1.000000 -1.000000 -1.000000
0 0 Van 0 0 -1.793451 296.744956 161.752147 455.226042 292.372804 2.000000 1.823255 4.433886 -4.552284 1.858523 13.410495 -2.115488
0 1 Car 1 2 -1.9 737.6 161.5 931.1 374.0 1.5 1.6 3.9 1.6 1.7 5.8 -1.7

2 1 Car 0 0 -1.9 737.6 161.5 931.1 374.0 1.5 1.6 3.9 1.7 1.7 6.8 -1.6
"""

DETECTIONS = """\
0,2,298.3125,165.1800,458.2292,293.4391,8.2981,1.9605,1.8137,4.7549,-4.5720,1.8435,13.5308,-2.1125,-1.7867
0,2,1050.4751,177.0771,1241.0000,239.3750,1.3104,1.4905,1.6289,4.0662,13.6684,1.6046,18.4125,-0.1005,-0.7391
3,2,364.7274,137.8874,453.8243,172.5940,-0.4501,1.4779,1.5952,3.8674,-9.0942,-0.0122,32.8211,-1.0285,-0.7582
"""

CALIB = """\
P0: 7.215377e+02 0 6.095593e+02 0 0 7.215377e+02 1.728540e+02 0 0 0 1 0
P2: 7.215377e+02 0 6.095593e+02 4.485728e+01 0 7.215377e+02 1.728540e+02 2.163791e-01 0 0 1 2.745884e-03
R0_rect: 1 0 0 0 1 0 0 0 1
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def tiny_root(tmp_path: Path) -> Path:
    write(tmp_path / "labels" / "0007.txt", LABELS)
    write(tmp_path / "detections" / "pointrcnn_car" / "0007.txt", DETECTIONS)
    write(tmp_path / "calib" / "0007.txt", CALIB)
    write(tmp_path / "seqmap_train.txt", "0007 empty 000000 000005\n")
    return tmp_path


def test_labels_are_grouped_by_frame(tmp_path):
    frames = read_labels(write(tmp_path / "l.txt", LABELS))
    assert [len(f) for f in frames] == [3, 0, 1]
    f0 = frames[0]
    assert f0.obj_type.tolist() == ["DontCare", "Van", "Car"] and f0.track_id.tolist() == [-1, 0, 1]
    assert f0.truncated[2] == 1.0 and f0.occluded[2] == 2
    np.testing.assert_allclose(f0.bbox2d_px[0], [219.31, 188.49, 245.5, 218.56])
    np.testing.assert_allclose(f0.boxes7()[1], [-4.552284, 1.858523, 13.410495, 2.0, 1.823255, 4.433886, -2.115488])
    assert np.isnan(f0.score).all() and frames[2].frame == 2
    assert len(read_labels(tmp_path / "l.txt", n_frames=6)) == 6


def test_detections_keep_the_logit_and_read_as_cars(tmp_path):
    frames = read_detections(write(tmp_path / "d.csv", DETECTIONS), n_frames=5)
    assert [len(f) for f in frames] == [2, 0, 0, 1, 0]
    np.testing.assert_allclose(frames[0].score, [8.2981, 1.3104])
    assert frames[3].score[0] == pytest.approx(-0.4501)
    assert frames[0].obj_type.tolist() == ["Car", "Car"] and (frames[0].track_id == -1).all()
    np.testing.assert_allclose(frames[0].boxes7()[0], [-4.572, 1.8435, 13.5308, 1.9605, 1.8137, 4.7549, -2.1125])


def test_calib_seqmap_and_sequence(tmp_path):
    root = tiny_root(tmp_path)
    P2 = read_calib_p2(root / "calib" / "0007.txt")
    assert P2.shape == (3, 4) and P2[0, 3] == pytest.approx(44.85728)
    assert read_seqmap(root / "seqmap_train.txt")[0].n_frames == 5
    seq = load_sequence(root, "0007")
    assert seq.n_frames == 5 and len(seq.detections) == 5 and len(seq.labels[2]) == 1
    assert [s.name for s in load_sequences(root)] == ["0007"]


def test_malformed_lines_name_the_file_and_line(tmp_path):
    short = write(tmp_path / "labels.txt", LABELS.splitlines()[1] + "\n0 1 Car 0 0 -1.9 737.6\n")
    with pytest.raises(ValueError, match=r"labels\.txt:2: expected 17"):
        read_labels(short)
    word = write(tmp_path / "det.txt", DETECTIONS.replace("8.2981", "high", 1))
    with pytest.raises(ValueError, match=r"det\.txt:1: non-numeric"):
        read_detections(word)
    late = write(tmp_path / "late.txt", DETECTIONS)
    with pytest.raises(ValueError, match=r"late\.txt:3: frame 3 outside 0\.\.1"):
        read_detections(late, n_frames=2)
    with pytest.raises(ValueError, match="no P2"):
        read_calib_p2(write(tmp_path / "calib.txt", "P0: 1 2 3\n"))


def test_missing_folder_or_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="folder not found"):
        load_sequence(tmp_path / "nowhere", "0000")
    root = tiny_root(tmp_path)
    with pytest.raises(ValueError, match=r"file not found: .*0001\.txt"):
        load_sequence(root, "0001")


def test_camera_to_ego_axes_and_yaw():
    # A car 10 m ahead, 2 m to the right, bottom 1.7 m below the camera, heading away (rot_y = -pi/2).
    ego = camera_to_ego(np.array([[2.0, 1.7, 10.0, 1.5, 1.6, 4.0, -np.pi / 2]]))
    np.testing.assert_allclose(ego.center_m, [[10.0, -2.0, -0.95]])
    np.testing.assert_allclose(ego.size_m, [[4.0, 1.6, 1.5]])
    assert ego.yaw_rad[0] == pytest.approx(0.0)
    assert cam_yaw_to_ego(0.0) == pytest.approx(-np.pi / 2)  # facing camera right = ego right
    assert abs(cam_yaw_to_ego(np.pi / 2)) == pytest.approx(np.pi)  # facing the camera
    assert cam_yaw_to_ego(np.pi) == pytest.approx(np.pi / 2)  # facing camera left = ego left


def test_ego_yaw_matches_the_box_geometry():
    rng = np.random.default_rng(1)
    boxes = np.column_stack([rng.normal(0, 5, 50), rng.normal(1.7, 0.2, 50), rng.uniform(5, 60, 50),
                             np.full(50, 1.5), np.full(50, 1.6), np.full(50, 4.0), rng.uniform(-np.pi, np.pi, 50)])
    bottom = box_corners(boxes)[:, :4]
    front = 0.5 * (bottom[:, 0] + bottom[:, 1]) - boxes[:, :3]  # corners 0, 1 are at +l/2
    heading_ego = np.arctan2(-front[:, 0], front[:, 2])  # ego x = cam z, ego y = -cam x
    np.testing.assert_allclose(np.cos(cam_yaw_to_ego(boxes[:, 6]) - heading_ego), 1.0, atol=1e-12)


def test_camera_ego_round_trip():
    rng = np.random.default_rng(2)
    boxes = np.column_stack([rng.normal(0, 5, 40), rng.normal(1.7, 0.3, 40), rng.uniform(2, 70, 40),
                             rng.uniform(1.3, 2.5, 40), rng.uniform(1.4, 2.0, 40), rng.uniform(3, 6, 40),
                             rng.uniform(-np.pi, np.pi, 40)])
    np.testing.assert_allclose(ego_to_camera(camera_to_ego(boxes)), boxes, atol=1e-12)
    yaw = rng.uniform(-np.pi, np.pi, 40)
    np.testing.assert_allclose(np.asarray(cam_yaw_to_ego(ego_yaw_to_cam(yaw))), yaw, atol=1e-12)
    ego = EgoBoxes(rng.normal(0, 5, (40, 3)), rng.uniform(1, 5, (40, 3)), yaw)
    back = camera_to_ego(ego_to_camera(ego))
    np.testing.assert_allclose(back.center_m, ego.center_m, atol=1e-12)
    np.testing.assert_allclose(back.size_m, ego.size_m, atol=1e-12)


def test_projection_of_a_box_ahead():
    P2 = np.array([[700.0, 0, 600.0, 0], [0, 700.0, 180.0, 0], [0, 0, 1, 0]])
    box = project_to_image(np.array([[0.0, 1.5, 20.0, 1.5, 1.6, 4.0, -np.pi / 2]]), P2)[0]
    assert (box[0] + box[2]) / 2 == pytest.approx(600.0)  # centred on the principal point
    assert box[1] == pytest.approx(180.0 + 700.0 * 0.0 / 18.0)  # top edge at camera height, near face
    assert box[3] == pytest.approx(180.0 + 700.0 * 1.5 / 18.0)  # bottom edge of the near face
    clipped = project_to_image(np.array([[0.0, 1.5, 2.0, 1.5, 1.6, 4.0, -np.pi / 2]]), P2)[0]
    assert clipped[3] == 374.0 and clipped[1] >= 0.0


@pytest.mark.skipif(not DATA.is_dir(), reason="shared KITTI tracking data not present")
def test_shared_sequence_0000_loads_and_the_greedy_baseline_tracks_it():
    seq = load_sequence(DATA, "0000")
    assert seq.n_frames == 154 and len(seq.detections) == 154
    assert sum(len(f) for f in seq.labels) > 0 and sum(len(f) for f in seq.detections) > 0
    result = evaluate_kitti([seq], [greedy_baseline(seq.detections)], iou_thresholds=(0.25,))[0]
    assert result.samota > 0.5 and result.n_gt > 0
