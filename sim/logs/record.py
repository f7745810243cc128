"""Recording a closed-loop episode: a tick sink for ``sim.loop.runner.run_episode`` that writes every
tick's record to an MCAP log.

The run renders the sensor rig every tick (``run_episode(..., sensors=True)``), so every log has the
sensor frame to replay: with the ``perception`` world model it is the very frame and detections the
stack used; with another world model detections are absent (nothing detected in the loop) and
tracks are that world model's.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.diagnostics import DiagnosticsMonitor
from sim.highway.ground_truth import GroundTruthFrame
from sim.logs import codec
from sim.logs.messages import diagnostics_message, lane_markers, topic_schemas
from sim.logs.provenance import run_metadata
from sim.logs.types import GroundTruthObjects, LoggedTick
from sim.logs.writer import LogWriter
from sim.loop.setup import RunSetup
from sim.loop.tick import TickRecord


def ground_truth_objects(gt: GroundTruthFrame) -> GroundTruthObjects:
    return GroundTruthObjects(gt.stamp, gt.ego, np.asarray(gt.ids, dtype=np.int64), gt.others_array.copy())


def logged_tick(record: TickRecord, planner: str) -> LoggedTick:
    """A closed-loop tick in the log's terms (what the recorder writes and the live view streams)."""
    world = record.world
    return LoggedTick(record.stamp, record.frame, world.ego, world.ego_lane_id, ground_truth_objects(record.ground_truth),
                      record.detections, world.tracks, world.source, record.trajectory, planner, record.command)


class LogRecorder:
    """Call with each ``TickRecord``; ``close()`` finishes the file (a recorder that is never closed
    still leaves every completed chunk readable). With a ``diagnostics`` monitor, each tick's
    statuses go on ``/diagnostics``."""

    def __init__(self, path: str | Path, setup: RunSetup, seed: int, total_ticks: int | None = None,
                 diagnostics: DiagnosticsMonitor | None = None) -> None:
        from tqdm import tqdm

        from sim.sensors.rig import load_rig

        self.path, self.setup, self.seed = Path(path), setup, seed
        if self.path.is_dir():
            raise ValueError(f"--record {self.path} is a directory")
        self.rig = setup.rig or load_rig()
        self.ticks = 0
        self.diagnostics = diagnostics
        self._writer: LogWriter | None = None
        self._bar = tqdm(total=total_ticks, desc="record", unit="tick", dynamic_ncols=True)

    def __call__(self, record: TickRecord) -> None:
        if record.frame is None:
            raise ValueError("the log recorder needs every tick's sensor frame (run_episode(..., sensors=True))")
        first = self._writer is None
        world = record.world
        if first:
            self._open(world)
        tick = logged_tick(record, self.setup.planner)
        extra = [lane_markers(record.stamp, world.lane_map)] if first else []
        if self.diagnostics is not None:
            extra.append(diagnostics_message(record.stamp, self.diagnostics.statuses(record)))
        self._writer.write_tick(tick, extra)
        self.ticks += 1
        self._bar.update(1)

    def close(self, interrupted: bool = False) -> None:
        self._bar.close()
        if self._writer is not None:
            self._writer.close(interrupted)

    def _open(self, world) -> None:
        topics = topic_schemas([c.name for c in self.rig.cameras], [l.name for l in self.rig.lidars],
                               self.diagnostics is not None)
        lanes = codec.dumps(codec.lane_map_json(world.lane_map, world.route_nodes))
        self._writer = LogWriter(self.path, run_metadata(self.setup, self.seed), topics, lanes)
