"""Camera pseudo-labels from the lidar teacher: visibility from boxes and calibration, and a training
run on a data set with every simulator label removed."""
import json
import shutil

import numpy as np
import pytest

import perception.camera_data
import perception.dataset
from perception.calibration import CameraCalibration, intrinsics
from perception.dataset import frame_arrays, load_frame, load_sensor_data
from perception.detections import Detections
from perception.pseudo_labels import PseudoLabelConfig, box_visibility, pseudo_labels
from perception.train_camera import train_camera
from perception.training import TrainConfig
from sim.logs.provenance import SHIPPED_WEIGHTS

CAR = np.array([4.5, 1.8, 1.5])


def front_camera() -> CameraCalibration:
    """320x160 pinhole at 1.5 m height looking along +x (optical z forward, x right, y down)."""
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = [[0, 0, 1], [-1, 0, 0], [0, -1, 0]], [0.0, 0.0, 1.5]
    return CameraCalibration("front", intrinsics(320, 160, np.deg2rad(90)), 320, 160, T)


def test_a_car_ahead_is_seen_whole_and_one_hidden_behind_it_is_not():
    cal = front_camera()
    center = np.array([[15.0, 0.0, 0.75], [30.0, 0.0, 0.75], [20.0, 8.0, 0.75]])
    vis = box_visibility(center, np.tile(CAR, (3, 1)), np.zeros(3), cal)
    assert vis[0] == pytest.approx(1.0)
    assert vis[1] == 0.0  # straight behind the nearer car, smaller in the image: fully covered
    assert vis[2] > 0.9  # to the left, in the field of view, nothing in front


def test_boxes_behind_or_beside_the_camera_are_not_seen():
    cal = front_camera()
    center = np.array([[-10.0, 0.0, 0.75], [2.0, 30.0, 0.75]])
    assert box_visibility(center, np.tile(CAR, (2, 1)), np.zeros(2), cal).tolist() == [0.0, 0.0]
    assert box_visibility(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0), cal).shape == (0,)


def test_pseudo_labels_keep_confident_boxes_in_range():
    det = Detections(0.0, "lidar", np.array([[15.0, 0, 0.75], [20.0, 3, 0.75], [80.0, 0, 0.75]]), np.tile(CAR, (3, 1)),
                     np.zeros(3), np.array([0.9, 0.2, 0.95]), np.zeros((3, 2, 2)))
    labels = pseudo_labels(det, front_camera(), PseudoLabelConfig("unused", score_threshold=0.3, max_range_m=60.0))
    assert labels.center_m[:, 0].tolist() == [15.0]
    assert labels.visible_fraction.shape == (1, 1) and labels.visible_fraction[0, 0] == pytest.approx(1.0)


def test_self_training_adds_only_confident_far_student_boxes_that_no_teacher_box_explains():
    teacher = Detections(0.0, "lidar", np.array([[20.0, 0, 0.75], [50.0, 4, 0.75]]), np.tile(CAR, (2, 1)),
                         np.zeros(2), np.array([0.9, 0.8]), np.zeros((2, 2, 2)))
    student_at = np.array([[30.0, -4, 0.75], [50.5, 4.5, 0.75], [55.0, -4, 0.75], [58.0, 8, 0.75], [70.0, 0, 0.75]])
    student = Detections(0.0, "camera", student_at, np.tile(CAR, (5, 1)), np.zeros(5),
                         np.array([0.9, 0.9, 0.8, 0.3, 0.9]), np.zeros((5, 2, 2)))
    cfg = PseudoLabelConfig("unused", score_threshold=0.3, max_range_m=60.0, student="unused", student_threshold=0.5)
    labels = pseudo_labels(teacher, front_camera(), cfg, student)
    # kept: both teacher boxes and the student's confident 55 m box; not the near (30 m) one, the one the
    # teacher explains (0.7 m from its 50 m box), the unconfident one, nor the one beyond max_range_m
    assert labels.center_m[:, 0].tolist() == [20.0, 50.0, 55.0]
    assert labels.lidar_points.tolist() == [1, 1, 0]
    assert pseudo_labels(teacher, front_camera(), cfg).center_m[:, 0].tolist() == [20.0, 50.0]


def strip_labels(src, dst):
    """A copy of a data set with every simulator-only member removed from frames and manifest."""
    shutil.copytree(src, dst)
    manifest = json.loads((dst / "manifest.json").read_text())
    for row in manifest["frames"]:
        row.pop("n_boxes", None)
        frame = load_frame(dst / row["path"])
        np.savez_compressed(dst / row["path"], **frame_arrays(frame, labelled=False))
    (dst / "manifest.json").write_text(json.dumps(manifest))
    return dst


def test_unlabelled_frames_hold_sensor_data_only(tiny_data, tmp_path):
    data = strip_labels(tiny_data, tmp_path / "u")
    row = json.loads((data / "manifest.json").read_text())["frames"][0]
    with np.load(data / row["path"]) as z:
        assert not [k for k in z.files if k.startswith("labels/") or "depth" in k or "instance" in k]
    frame = load_frame(data / row["path"])
    assert frame.labels is None and frame.lidars and np.isnan(frame.cameras[0].depth_m).all()
    assert np.array_equal(load_sensor_data(tiny_data / row["path"]).cameras[0].rgb, frame.cameras[0].rgb)


def test_pseudo_label_training_never_reads_simulator_labels(tiny_data, tmp_path, monkeypatch):
    data = strip_labels(tiny_data, tmp_path / "u")
    reads = []

    def spy(z):
        reads.append(z.zip.filename if hasattr(z, "zip") else "a dict of arrays")
        return read_labels(z)

    read_labels = perception.dataset.read_labels
    monkeypatch.setattr(perception.camera_data, "read_labels", spy)
    monkeypatch.setattr(perception.dataset, "read_labels", spy)
    cfg = TrainConfig(epochs=1, batch_size=2, device="cpu", max_val_frames=1, patience=5, lr=1e-3)
    pseudo = PseudoLabelConfig(SHIPPED_WEIGHTS["lidar"], score_threshold=0.3)
    result = train_camera(data, tmp_path / "run", cfg, pseudo=pseudo, val_data=tiny_data)
    assert result["epochs"] == 1 and (tmp_path / "run" / "best.pt").exists()
    assert reads and all(str(tiny_data) in str(name) for name in reads)  # validation only, on the labelled set
    with pytest.raises(ValueError, match="no labels"):  # and the unlabelled set really has nothing to read
        train_camera(data, tmp_path / "gt", cfg)
