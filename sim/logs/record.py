"""Recording a closed-loop episode: a ``tick_sink`` for ``sim.loop.runner.run_episode`` that writes every
tick to an MCAP log.

With the ``perception`` world model the log holds the very sensor frame and detections the stack
used. With another world model the recorder runs the sensor simulator itself (same rig, same seed
as the perception world model would), so every log has sensor data to replay; detections are then
absent (nothing detected in the loop) and tracks are that world model's.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.highway.ground_truth import GroundTruthFrame
from sim.logs import codec
from sim.logs.messages import lane_markers, topic_schemas
from sim.logs.provenance import run_metadata
from sim.logs.types import GroundTruthObjects, LoggedTick
from sim.logs.writer import LogWriter
from sim.loop.runner import LoopStep, RunSetup


def ground_truth_objects(gt: GroundTruthFrame) -> GroundTruthObjects:
    return GroundTruthObjects(gt.stamp, gt.ego, np.asarray(gt.ids, dtype=np.int64), gt.others_array.copy())


class LogRecorder:
    """Call with each ``LoopStep``; ``close()`` finishes the file (a recorder that is never closed
    still leaves every completed chunk readable)."""

    def __init__(self, path: str | Path, setup: RunSetup, seed: int, total_ticks: int | None = None) -> None:
        from tqdm import tqdm

        from sim.sensors.rig import load_rig

        self.path, self.setup, self.seed = Path(path), setup, seed
        if self.path.is_dir():
            raise ValueError(f"--record {self.path} is a directory")
        self.rig = setup.rig or load_rig()
        self.ticks = 0
        self._writer: LogWriter | None = None
        self._sensors = None
        self._bar = tqdm(total=total_ticks, desc="record", unit="tick", dynamic_ncols=True)

    def __call__(self, step: LoopStep) -> None:
        first = self._writer is None
        if first:
            self._open(step)
        frame, detections = self._sensor_frame(step)
        world = step.world
        tick = LoggedTick(step.gt.stamp, frame, world.ego, world.ego_lane_id, ground_truth_objects(step.gt), detections,
                          world.tracks, world.source, step.trajectory, self.setup.planner, step.command)
        self._writer.write_tick(tick, [lane_markers(step.gt.stamp, step.lane_map)] if first else [])
        self.ticks += 1
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()
        if self._writer is not None:
            self._writer.close()

    def _open(self, step: LoopStep) -> None:
        topics = topic_schemas([c.name for c in self.rig.cameras], [l.name for l in self.rig.lidars])
        lanes = codec.dumps(codec.lane_map_json(step.lane_map, step.route_nodes))
        self._writer = LogWriter(self.path, run_metadata(self.setup, self.seed), topics, lanes)

    def _sensor_frame(self, step: LoopStep):
        frame = getattr(step.source, "last_frame", None)
        if frame is not None:
            return frame, tuple(getattr(step.source, "last_detections", ()))
        if self._sensors is None:
            from sim.sensors.simulator import SensorSimulator

            self._sensors = SensorSimulator(self.rig, step.lane_map, self.seed)
        return self._sensors.step(step.gt), None
