"""``drivestack replay LOG --topics ...``: the replay engine on a foreign log, with what it found per tick
(detections above the score threshold, tracks), and the text of ``log info --topics``."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.logs.foreign import ForeignSource, ForeignSummary
from sim.logs.foreign_config import TopicMap, load_calibration
from sim.logs.reader import McapLog
from sim.logs.replay import ReplayEngine, ReplayResult, run_to_end
from sim.logs.replay_config import ReplayOptions, resolve


@dataclass(frozen=True)
class TickOutput:
    """One replayed tick: ``detections`` maps a detector to its boxes' centres above the score
    threshold, ego frame (N, 3) [m]; ``tracks_xy_m`` the world model's tracks, map frame (M, 2) [m]
    (the ego frame when the log has no pose); ``confirmed`` how many of them a detection updated."""

    stamp: float
    detections: dict
    tracks_xy_m: np.ndarray
    confirmed: int


@dataclass(frozen=True)
class ForeignReplay:
    result: ReplayResult
    summary: ForeignSummary
    ticks: tuple[TickOutput, ...]


class _RecordingEngine(ReplayEngine):
    """The replay engine, unchanged, keeping a small record of each tick's outputs."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.outputs: list[TickOutput] = []

    def step(self, tick, dets):
        out = super().step(tick, dets)
        if out is not None:
            threshold = self.cfg.perception.score_threshold
            boxes = {d.source: np.asarray(d.center_m)[np.asarray(d.score) >= threshold] for d in out.detections
                     if d is not None}
            xy = np.array([[t.x_m, t.y_m] for t in out.world.tracks]).reshape(-1, 2)
            confirmed = sum(t.status == "confirmed" for t in out.world.tracks)
            self.outputs.append(TickOutput(tick.stamp, boxes, xy, int(confirmed)))
        return out


def replay_foreign(path: str | Path, topics: TopicMap, calib_path: str | Path | None = None,
                   options: ReplayOptions | None = None) -> ForeignReplay:
    options = options or ReplayOptions()
    if options.compare:
        raise ValueError("--compare diffs against recorded outputs; a foreign log (--topics) has none")
    calib = load_calibration(calib_path)
    with McapLog(path) as log:
        t0 = time.perf_counter()
        source = ForeignSource.open(log, topics, calib)
        scan_s = time.perf_counter() - t0
        if not source.plan:
            raise ValueError(f"{path} has no message on the {topics.clock} topic {getattr(topics, topics.clock)}: "
                             f"nothing to replay")
        cfg = resolve(source.index, None, options)
        engine = _RecordingEngine(source.index, cfg, options, None)
        run_to_end(engine, source.ticks(log), scan_s, lambda: f"{path}: no tick has an ego pose within "
                   f"{calib.sync_tolerance_s} s of its {topics.clock} message (pose topic {topics.pose}): nothing "
                   "could be replayed")
        return ForeignReplay(engine.result(path, tuple(log.issues)), source.summary, tuple(engine.outputs))


def format_summary(s: ForeignSummary) -> str:
    lines = [f"mapped topics ({s.ticks} ticks, one per {s.roles[0].role} message, every {s.dt_s:.3f} s; "
             f"calibration: {s.calibration}):"]
    rows = [("role", "topic", "schema", "messages", "time s", "joined ticks")] + [
        (r.role, r.topic, r.schema, str(r.count), f"{r.first_s:.3f}-{r.last_s:.3f}", str(r.matched)) for r in s.roles]
    widths = [max(len(row[i]) for row in rows) + 2 for i in range(len(rows[0]))]
    lines += ["  " + "".join(f"{v:<{w}}" for v, w in zip(row, widths)).rstrip() for row in rows]
    lines += [f"  missing: {note}" for note in s.notes]
    return "\n".join(lines)


def format_ticks(outputs: tuple[TickOutput, ...], limit: int = 10) -> str:
    """Per tick: detections above the threshold per detector, tracks (confirmed); the first ``limit`` ticks."""
    lines = ["per tick: detections above the score threshold per detector; tracks (confirmed)"]
    for o in outputs[:limit]:
        dets = ", ".join(f"{src} {len(c)}" for src, c in o.detections.items()) or "none"
        lines.append(f"  t={o.stamp:6.2f} s  detections {dets}; tracks {len(o.tracks_xy_m)} ({o.confirmed})")
    if len(outputs) > limit:
        lines.append(f"  ... {len(outputs) - limit} more ticks (--json has all)")
    return "\n".join(lines)


def outputs_json(outputs: tuple[TickOutput, ...]) -> list[dict]:
    return [{"stamp": o.stamp, "detections": {k: np.asarray(v).tolist() for k, v in o.detections.items()},
             "tracks_xy_m": o.tracks_xy_m.tolist(), "confirmed": o.confirmed} for o in outputs]
