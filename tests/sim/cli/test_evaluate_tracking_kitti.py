"""``drivestack evaluate-tracking --kitti``: a small KITTI layout made here, and the shared sequences."""
import json
from pathlib import Path

import pytest

from sim.cli.main import main

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "kitti_tracking_train"
P2 = "P2: 721.5377 0.0 609.5593 44.85728 0.0 721.5377 172.854 0.2163791 0.0 0.0 1.0 0.002745884"


def _layout(root: Path, frames: int = 20) -> Path:
    """One sequence: a car 20 m ahead driving away at 0.2 m per frame, detected every frame but the 8th."""
    (root / "labels").mkdir(parents=True)
    (root / "calib").mkdir()
    (root / "detections" / "pointrcnn_car").mkdir(parents=True)
    labels, dets = [], []
    for f in range(frames):
        z = 20.0 + 0.2 * f
        labels.append(f"{f} 1 Car 0 0 -1.57 500 150 700 250 1.5 1.6 3.9 0.0 1.7 {z:.2f} -1.57")
        if f != 8:
            dets.append(f"{f},2,500,150,700,250,6.0,1.5,1.6,3.9,0.0,1.7,{z:.2f},-1.57,-1.57")
    (root / "labels" / "0000.txt").write_text("\n".join(labels) + "\n")
    (root / "detections" / "pointrcnn_car" / "0000.txt").write_text("\n".join(dets) + "\n")
    (root / "calib" / "0000.txt").write_text(P2 + "\n")
    (root / "seqmap_train.txt").write_text(f"0000 empty 000000 {frames:06d}\n")
    return root


def test_kitti_layout_is_tracked_scored_and_exported(tmp_path, capsys):
    root = _layout(tmp_path / "kitti")
    assert main(["evaluate-tracking", "--kitti", str(root), "--export", str(tmp_path / "out"),
                 "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "project (preset sensor_frame)" in out and "greedy" in out
    runs = {r["tracker"]: r["results"][0] for r in json.loads((tmp_path / "r.json").read_text())["runs"]}
    project, greedy = runs["project"], runs["greedy"]
    assert project["iou_threshold"] == 0.25 and project["fn"] == 0 and project["fp"] == 0  # coasts over frame 8
    assert project["idsw"] == 0 and project["frag"] == 0 and project["mota"] == pytest.approx(1.0)
    assert greedy["fn"] == 1 and greedy["frag"] == 1  # outputs detections only: the gap is a miss
    lines = (tmp_path / "out" / "project" / "data" / "0000.txt").read_text().splitlines()
    assert len(lines) == 20 and lines[0].split()[2] == "Car" and len(lines[0].split()) == 18


def test_kitti_errors_are_one_line(tmp_path, capsys):
    assert main(["evaluate-tracking", "--kitti", str(tmp_path / "nowhere")]) == 2
    assert "KITTI tracking folder not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["evaluate-tracking", "--kitti", str(tmp_path), "--preset", "moon"])
    assert "unknown tracker preset 'moon'" in capsys.readouterr().err
    assert main(["evaluate-tracking", "--kitti", str(_layout(tmp_path / "k")), "--trackers", "magic"]) == 2
    assert "unknown tracker 'magic'; valid: greedy, project" in capsys.readouterr().err


@pytest.mark.skipif(not DATA.is_dir(), reason="shared KITTI tracking data not present")
def test_shared_sequences_greedy_reproduces_the_published_table_and_the_tracker_beats_it(tmp_path):
    assert main(["evaluate-tracking", "--kitti", str(DATA), "--json", str(tmp_path / "r.json")]) == 0
    runs = {r["tracker"]: r["results"][0] for r in json.loads((tmp_path / "r.json").read_text())["runs"]}
    greedy, project = runs["greedy"], runs["project"]
    assert (round(100 * greedy["samota"], 2), round(100 * greedy["mota"], 2), greedy["idsw"], greedy["frag"],
            greedy["fp"], greedy["fn"]) == (89.88, 79.57, 82, 260, 935, 2189)
    assert project["samota"] >= 0.91 > greedy["samota"] and project["mota"] >= 0.82
    assert project["idsw"] <= 10 and project["frag"] <= 130
