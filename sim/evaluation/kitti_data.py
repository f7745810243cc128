"""KITTI tracking data: ``label_02`` ground truth, AB3DMOT-style detection CSVs and calibration, read into
per-frame :class:`KittiBoxes` in KITTI camera coordinates (the frame's conventions, box geometry and the
camera <-> ego conversions are in :mod:`sim.evaluation.kitti_geometry`).

Layout read by :func:`load_sequence` (see ``shared/data/kitti_tracking_train/README.md``)::

    <root>/seqmap_train.txt                 sequence, unused, first frame, number of frames
    <root>/labels/NNNN.txt                  label_02: frame id type trunc occ alpha x1 y1 x2 y2 h w l x y z ry
    <root>/detections/<detector>/NNNN.txt   CSV: frame, type, x1, y1, x2, y2, score, h, w, l, x, y, z, ry, alpha
    <root>/calib/NNNN.txt                   P2 (3x4) projects rectified camera coordinates to the image
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sim.evaluation.kitti_geometry import project_to_image

_LABEL_FIELDS = 17
_DETECTION_FIELDS = 15
_DETECTION_TYPES = {1: "Pedestrian", 2: "Car", 3: "Cyclist"}
"""Type codes of the AB3DMOT detection CSVs."""


@dataclass(frozen=True)
class KittiBoxes:
    """The boxes of one frame in KITTI camera coordinates; every array has length N.

    Used for ground truth (``score`` NaN), detections (``track_id`` -1, ``score`` the detector's logit)
    and tracker outputs (``track_id`` the track, ``score`` its confidence).
    """

    frame: int
    track_id: np.ndarray
    """(N,) int, -1 when the box belongs to no track (detections, DontCare regions)."""
    obj_type: np.ndarray
    """(N,) str: Car, Van, Pedestrian, DontCare..."""
    truncated: np.ndarray
    """(N,) float: 0 (not) .. 2 (heavily) truncated by the image border; -1 for DontCare."""
    occluded: np.ndarray
    """(N,) int: 0 visible, 1 partly, 2 largely occluded, 3 unknown; -1 for DontCare."""
    bbox2d_px: np.ndarray
    """(N, 4) image box x1, y1, x2, y2 [px]."""
    h_m: np.ndarray
    w_m: np.ndarray
    l_m: np.ndarray
    """(N,) height, width, length [m]."""
    x_m: np.ndarray
    y_m: np.ndarray
    z_m: np.ndarray
    """(N,) bottom-face centre in the rectified camera frame [m]."""
    rot_y_rad: np.ndarray
    """(N,) yaw about camera y (down) [rad]."""
    score: np.ndarray
    """(N,) float confidence (NaN for ground truth)."""

    def __len__(self) -> int:
        return len(self.track_id)

    def select(self, mask: np.ndarray) -> "KittiBoxes":
        """The boxes where ``mask`` (bool (N,) or an index array) holds."""
        arrays = {name: getattr(self, name)[mask] for name in _ARRAY_FIELDS}
        return KittiBoxes(self.frame, **arrays)

    def boxes7(self) -> np.ndarray:
        """(N, 7) x, y, z, h, w, l, rot_y (camera frame, SI): the layout the IoU functions take."""
        return np.stack([self.x_m, self.y_m, self.z_m, self.h_m, self.w_m, self.l_m, self.rot_y_rad],
                        axis=1).reshape(-1, 7)

    @staticmethod
    def empty(frame: int) -> "KittiBoxes":
        return make_boxes(frame, np.zeros((0, 7)))


_ARRAY_FIELDS = ("track_id", "obj_type", "truncated", "occluded", "bbox2d_px", "h_m", "w_m", "l_m", "x_m",
                 "y_m", "z_m", "rot_y_rad", "score")


def make_boxes(frame: int, boxes7: np.ndarray, track_id: np.ndarray | None = None,
               score: np.ndarray | None = None, obj_type: str = "Car",
               bbox2d_px: np.ndarray | None = None) -> KittiBoxes:
    """KittiBoxes from (N, 7) ``x, y, z, h, w, l, rot_y`` camera boxes; unset fields get neutral values
    (track -1, score NaN, not truncated or occluded, 2-D box zeros)."""
    b = np.asarray(boxes7, float).reshape(-1, 7)
    n = len(b)
    return KittiBoxes(
        frame=int(frame),
        track_id=np.full(n, -1, int) if track_id is None else np.asarray(track_id, int).reshape(n),
        obj_type=np.full(n, obj_type, dtype=object),
        truncated=np.zeros(n), occluded=np.zeros(n, int),
        bbox2d_px=np.zeros((n, 4)) if bbox2d_px is None else np.asarray(bbox2d_px, float).reshape(n, 4),
        h_m=b[:, 3].copy(), w_m=b[:, 4].copy(), l_m=b[:, 5].copy(),
        x_m=b[:, 0].copy(), y_m=b[:, 1].copy(), z_m=b[:, 2].copy(), rot_y_rad=b[:, 6].copy(),
        score=np.full(n, np.nan) if score is None else np.asarray(score, float).reshape(n),
    )


@dataclass(frozen=True)
class SequenceInfo:
    """One row of a KITTI seqmap."""

    name: str
    first_frame: int
    n_frames: int


@dataclass(frozen=True)
class KittiSequence:
    """One sequence: per-frame ground truth and detections (index = frame), and the P2 camera matrix."""

    name: str
    labels: tuple[KittiBoxes, ...]
    detections: tuple[KittiBoxes, ...]
    P2: np.ndarray
    """(3, 4) projection from the rectified camera frame to the left colour image [px]."""

    @property
    def n_frames(self) -> int:
        return len(self.labels)


# ----------------------------------------------------------------------------------------------- reading

def read_seqmap(path: Path | str) -> tuple[SequenceInfo, ...]:
    """Rows ``NNNN empty first_frame n_frames`` of a seqmap file."""
    rows = []
    for lineno, fields in _lines(Path(path), " "):
        if len(fields) != 4:
            raise ValueError(f"{path}:{lineno}: expected 4 fields (sequence, unused, first, count), got {len(fields)}")
        first, count = _ints(fields[2:], path, lineno)
        rows.append(SequenceInfo(fields[0], first, count))
    return tuple(rows)


def read_labels(path: Path | str, n_frames: int | None = None) -> tuple[KittiBoxes, ...]:
    """Per-frame boxes of a ``label_02`` file (``n_frames`` default: last frame + 1). Also reads tracking
    results, whose lines carry an 18th field, the score (NaN where absent)."""
    path = Path(path)
    rows = []
    for lineno, f in _lines(path, " "):
        if len(f) not in (_LABEL_FIELDS, _LABEL_FIELDS + 1):
            raise ValueError(f"{path}:{lineno}: expected {_LABEL_FIELDS} label fields (+ score), got {len(f)}")
        frame, track = _ints(f[:2], path, lineno)
        num = _floats(f[3:], path, lineno)  # trunc occ alpha x1 y1 x2 y2 h w l x y z ry [score]
        score = num[14] if len(num) == 15 else np.nan
        rows.append((frame, track, f[2], num[0], int(num[1]), num[3:7], num[7:10], num[10:13], num[13], score,
                     lineno))
    return _per_frame(rows, n_frames, path)


def read_detections(path: Path | str, n_frames: int | None = None) -> tuple[KittiBoxes, ...]:
    """Per-frame detections of an AB3DMOT detection CSV; ``score`` stays the detector's logit."""
    path = Path(path)
    rows = []
    for lineno, f in _lines(path, ","):
        if len(f) != _DETECTION_FIELDS:
            raise ValueError(f"{path}:{lineno}: expected {_DETECTION_FIELDS} comma-separated fields, got {len(f)}")
        frame, code = _ints(f[:2], path, lineno)
        num = _floats(f[2:], path, lineno)  # x1 y1 x2 y2 score h w l x y z ry alpha
        obj_type = _DETECTION_TYPES.get(code, str(code))
        rows.append((frame, -1, obj_type, 0.0, 0, num[0:4], num[5:8], num[8:11], num[11], num[4], lineno))
    return _per_frame(rows, n_frames, path)


def read_calib_p2(path: Path | str) -> np.ndarray:
    """The (3, 4) ``P2`` matrix of a KITTI calibration file."""
    path = Path(path)
    for lineno, fields in _lines(path, " "):
        if fields[0].rstrip(":") == "P2":
            values = _floats(fields[1:], path, lineno)
            if len(values) != 12:
                raise ValueError(f"{path}:{lineno}: P2 needs 12 numbers, got {len(values)}")
            return np.array(values).reshape(3, 4)
    raise ValueError(f"{path}: no P2 line")


def load_sequence(root: Path | str, name: str, detector: str = "pointrcnn_car",
                  n_frames: int | None = None) -> KittiSequence:
    """Labels, detections and P2 of sequence ``name`` ("0000") under ``root``; the frame count comes from
    the seqmap when there is one."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"KITTI tracking folder not found: {root}")
    if n_frames is None and (root / "seqmap_train.txt").is_file():
        n_frames = next((s.n_frames for s in read_seqmap(root / "seqmap_train.txt") if s.name == name), None)
    labels = read_labels(_existing(root / "labels" / f"{name}.txt"), n_frames)
    n_frames = len(labels)
    detections = read_detections(_existing(root / "detections" / detector / f"{name}.txt"), n_frames)
    return KittiSequence(name, labels, detections, read_calib_p2(_existing(root / "calib" / f"{name}.txt")))


def load_sequences(root: Path | str, detector: str = "pointrcnn_car") -> tuple[KittiSequence, ...]:
    """Every sequence listed in ``root/seqmap_train.txt``."""
    seqmap = Path(root) / "seqmap_train.txt"
    if not Path(root).is_dir():
        raise ValueError(f"KITTI tracking folder not found: {root}")
    return tuple(load_sequence(root, s.name, detector, s.n_frames) for s in read_seqmap(_existing(seqmap)))


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise ValueError(f"KITTI file not found: {path}")
    return path


def _lines(path: Path, sep: str):
    """(1-based line number, stripped fields) of the non-empty lines of ``path``."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield lineno, [f.strip() for f in line.strip().split(sep) if f.strip() or sep != " "]


def _floats(fields: Sequence[str], path, lineno: int) -> list[float]:
    try:
        return [float(v) for v in fields]
    except ValueError:
        raise ValueError(f"{path}:{lineno}: non-numeric field in {' '.join(fields)!r}") from None


def _ints(fields: Sequence[str], path, lineno: int) -> list[int]:
    values = _floats(fields, path, lineno)
    if not all(v.is_integer() for v in values):
        raise ValueError(f"{path}:{lineno}: expected integers, got {' '.join(fields)!r}")
    return [int(v) for v in values]


def _per_frame(rows: list[tuple], n_frames: int | None, path: Path) -> tuple[KittiBoxes, ...]:
    """Group parsed rows (frame, track, type, trunc, occ, box2d, hwl, xyz, ry, score, line) by frame;
    ``n_frames`` (when given) bounds the frame index."""
    n = max((r[0] for r in rows), default=-1) + 1 if n_frames is None else n_frames
    for r in rows:
        if not 0 <= r[0] < n:
            raise ValueError(f"{path}:{r[-1]}: frame {r[0]} outside 0..{n - 1}")
    by_frame: list[list[tuple]] = [[] for _ in range(n)]
    for r in rows:
        by_frame[r[0]].append(r)
    return tuple(_frame_boxes(f, rs) for f, rs in enumerate(by_frame))


def _frame_boxes(frame: int, rows: list[tuple]) -> KittiBoxes:
    if not rows:
        return KittiBoxes.empty(frame)
    hwl = np.array([r[6] for r in rows], float)
    xyz = np.array([r[7] for r in rows], float)
    return KittiBoxes(
        frame=frame,
        track_id=np.array([r[1] for r in rows], int),
        obj_type=np.array([r[2] for r in rows], dtype=object),
        truncated=np.array([r[3] for r in rows], float),
        occluded=np.array([r[4] for r in rows], int),
        bbox2d_px=np.array([r[5] for r in rows], float),
        h_m=hwl[:, 0], w_m=hwl[:, 1], l_m=hwl[:, 2], x_m=xyz[:, 0], y_m=xyz[:, 1], z_m=xyz[:, 2],
        rot_y_rad=np.array([r[8] for r in rows], float),
        score=np.array([r[9] for r in rows], float),
    )


# ------------------------------------------------------------------------------------------ projection

def with_projected_bbox(boxes: KittiBoxes, P2: np.ndarray) -> KittiBoxes:
    """``boxes`` with ``bbox2d_px`` replaced by the projection of their 3-D boxes through ``P2``."""
    return replace(boxes, bbox2d_px=project_to_image(boxes.boxes7(), P2))
