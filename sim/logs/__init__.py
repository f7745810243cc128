"""Sensor logs in MCAP: recording the closed loop, the tolerant reader, replay, compare and inspection.

Replay, recording and the benchmark live in their modules (``sim.logs.replay``, ``sim.logs.record``,
``sim.bench.replay``) so that reading a log does not load the networks or the simulator.
"""
from sim.logs.index import LogIndex, TopicStats, scan
from sim.logs.reader import McapLog, RawMessage
from sim.logs.ticks import read_ticks
from sim.logs.types import GroundTruthObjects, LoggedTick
from sim.logs.writer import LogWriter

__all__ = ["GroundTruthObjects", "LogIndex", "LogWriter", "LoggedTick", "McapLog", "RawMessage", "TopicStats",
           "read_ticks", "scan"]
