"""Logs written by other tools: an MCAP file whose topics the user maps (``--topics``) read as the
ticks replay consumes from the project's own logs, so ``ReplayEngine`` runs on it unchanged.

Each message of the clock topic (the lidar; the camera when no lidar is mapped) is one tick, stamped
by its log time since the first one. The camera image and the ego pose nearest in log time join it
when within the calibration's ``sync_tolerance_s``; a tick without one has the camera missing / no
ego state (replay skips it). Without a pose topic the ego is parked at the map origin, so tracks are
in the ego frame of each tick. Sensor geometry comes from ``--calib`` (``sim.logs.foreign_config``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from fusion.types import EgoState
from perception.frames import CameraFrame, LidarFrame, SensorFrame
from sim.logs import schemas as S
from sim.logs.foreign_config import ForeignCalibration, TopicMap, load_calibration
from sim.logs.foreign_decode import LayoutError, Pose2D, decoder
from sim.logs.index import LogIndex, scan
from sim.logs.reader import McapLog, RawMessage
from sim.logs.ticks import DECODE_ERRORS
from sim.logs.types import LoggedTick

_NO_DEPTH = np.zeros((0, 0), np.float32)
_NO_IDS = np.zeros((0, 0), np.int32)


@dataclass(frozen=True)
class TickPlan:
    """One tick: the clock message's log time [ns] and, per mapped role, the log time [ns] of the
    message that joins it (None: none within the tolerance)."""

    clock_ns: int
    joined: dict


@dataclass(frozen=True)
class RoleSummary:
    role: str
    topic: str
    schema: str
    count: int
    first_s: float
    last_s: float
    matched: int
    """Ticks this topic's messages joined."""


@dataclass(frozen=True)
class ForeignSummary:
    """What a foreign log offers replay: the mapped topics, ticks, tick period [s], notes on what is missing."""

    roles: tuple[RoleSummary, ...]
    ticks: int
    dt_s: float
    calibration: str
    notes: tuple[str, ...]


class ForeignSource:
    """A foreign log mapped onto the project's ticks (``open`` checks the map; ``ticks`` reads)."""

    def __init__(self, raw: LogIndex, topics: TopicMap, calib: ForeignCalibration,
                 decoders: dict[str, Callable], times: dict[str, np.ndarray]) -> None:
        self.raw, self.topics, self.calib, self.decoders = raw, topics, calib, decoders
        clock = times[topics.clock]
        self.t0_ns = int(clock[0]) if len(clock) else 0
        self.plan = [TickPlan(int(t), {r: _nearest(times[r], int(t), calib.sync_tolerance_s)
                                       for r, _ in topics.items() if r != topics.clock}) for t in clock]
        self.dt_s = float(np.median(np.diff(clock))) / 1e9 if len(clock) > 1 else 0.1
        self.summary = self._summary(times)
        self.index = self._index()

    @classmethod
    def open(cls, log: McapLog, topics: TopicMap, calib: ForeignCalibration) -> "ForeignSource":
        raw = scan(log)
        decoders = {}
        for role, topic in topics.items():
            stats = raw.topics.get(topic)
            if stats is None:
                have = ", ".join(f"{t} ({s.schema})" for t, s in raw.topics.items()) or "none readable"
                raise ValueError(f"--topics {role}={topic}: {raw.path} has no topic {topic}; its topics: {have}")
            try:
                decoders[role] = decoder(role, stats.schema, stats.encoding, log.schema_data.get(stats.schema))
            except ValueError as exc:
                raise ValueError(f"--topics {role}={topic}: {exc}") from None
        times: dict[str, list[int]] = {r: [] for r, _ in topics.items()}
        role_of = {t: r for r, t in topics.items()}
        for msg in log.messages():
            if msg.topic in role_of:
                times[role_of[msg.topic]].append(msg.log_time_ns)
        return cls(raw, topics, calib, decoders, {r: np.unique(np.asarray(v, np.int64)) for r, v in times.items()})

    def _summary(self, times: dict[str, np.ndarray]) -> ForeignSummary:
        roles = []
        for role, topic in self.topics.items():
            t = times[role]
            matched = len(self.plan) if role == self.topics.clock else sum(p.joined[role] is not None for p in self.plan)
            roles.append(RoleSummary(role, topic, self.raw.topics[topic].schema, int(self.raw.topics[topic].count),
                                     self._s(t[0]) if len(t) else 0.0, self._s(t[-1]) if len(t) else 0.0, matched))
        notes = []
        if self.topics.lidar is None:
            notes.append("no lidar topic: ticks follow the camera images and the lidar detectors are not run")
        if self.topics.camera is None:
            notes.append("no camera topic: the camera detector is not run")
        if self.topics.pose is None:
            notes.append("no pose topic: the ego is parked at the map origin (tracks are in the ego frame of each tick, "
                         "their velocities relative to the ego)")
        return ForeignSummary(tuple(roles), len(self.plan), self.dt_s, self.calib.source, tuple(notes))

    def _s(self, ns: int) -> float:
        return (int(ns) - self.t0_ns) / 1e9

    def _index(self) -> LogIndex:
        """The log as replay sees it: the sensor topics under the project's names, one tick per clock message."""
        names = {"lidar": S.points_topic(self.calib.lidar.name), "camera": S.image_topic(self.calib.camera.name)}
        topics = {names.get(r, t): self.raw.topics[t] for r, t in self.topics.items()}
        run = {"format_version": S.FORMAT_VERSION, "dt_s": self.dt_s, "world_model": "none (foreign log)",
               "scenario": "foreign log"}
        meta = {**self.raw.metadata, S.RUN_METADATA: {k: json.dumps(v) for k, v in run.items()}}
        end = self.plan[-1].clock_ns - self.t0_ns if self.plan else None
        return replace(self.raw, topics=topics, metadata=meta, ticks=len(self.plan), start_ns=0 if self.plan else None,
                       end_ns=end)

    def ticks(self, log: McapLog) -> Iterator[LoggedTick]:
        """The planned ticks in order, read in one pass; a message is held only until its ticks are built."""
        uses: dict[tuple[str, int], int] = {}
        for p in self.plan:
            for key in self._keys(p):
                uses[key] = uses.get(key, 0) + 1
        held: dict[tuple[str, int], RawMessage] = {}
        pending, previous = iter(self.plan), None
        nxt = next(pending, None)
        for msg in log.messages():
            key = (msg.topic, msg.log_time_ns)
            if key in uses and key not in held:
                held[key] = msg
            while nxt is not None and all(k in held for k in self._keys(nxt)):
                tick, previous = self._tick(nxt, held, previous, log.report)
                self._release(nxt, held, uses)
                yield tick
                nxt = next(pending, None)
        while nxt is not None:  # messages lost between the passes (damage): build with what is there
            tick, previous = self._tick(nxt, held, previous, log.report)
            yield tick
            nxt = next(pending, None)

    def _keys(self, p: TickPlan) -> list[tuple[str, int]]:
        topic = dict(self.topics.items())
        return [(topic[self.topics.clock], p.clock_ns)] + [(topic[r], ns) for r, ns in p.joined.items() if ns is not None]

    def _release(self, p: TickPlan, held: dict, uses: dict) -> None:
        for key in self._keys(p):
            uses[key] -= 1
            if uses[key] == 0:
                del uses[key]
                held.pop(key, None)

    def _tick(self, p: TickPlan, held: dict, previous: Pose2D | None, report) -> tuple[LoggedTick, Pose2D | None]:
        topic = dict(self.topics.items())
        stamp = self._s(p.clock_ns)

        def decode(role: str):
            ns = p.clock_ns if role == self.topics.clock else p.joined.get(role)
            msg = held.get((topic.get(role), ns))
            if msg is None:
                return None
            try:
                return self.decoders[role](msg.data)
            except LayoutError as exc:
                raise ValueError(f"{msg.topic}: {exc}") from None
            except DECODE_ERRORS as exc:
                report(f"{msg.topic} message at {self._s(ns):.2f} s does not decode ({type(exc).__name__}: {exc})")
                return None

        lidars, cameras, missing = [], [], []
        if self.topics.lidar is not None:
            pts = decode("lidar")
            if pts is not None:
                lidars.append(LidarFrame(stamp, self.calib.lidar, pts))
            else:
                missing.append(f"lidar {self.calib.lidar.name}")
        if self.topics.camera is not None:
            rgb = decode("camera")
            if rgb is not None:
                cameras.append(CameraFrame(stamp, self.calib.camera, self._checked(rgb), _NO_DEPTH, _NO_IDS))
            else:
                missing.append(f"camera {self.calib.camera.name}")
        pose = decode("pose") if self.topics.pose is not None else Pose2D(0.0, 0.0, 0.0, 0.0, 0.0)
        ego = None if pose is None else self._ego(stamp, pose, previous)
        frame = SensorFrame(stamp, tuple(cameras), tuple(lidars))
        return LoggedTick(stamp, frame, ego, missing=tuple(missing)), (pose if pose is not None else previous)

    def _checked(self, rgb: np.ndarray) -> np.ndarray:
        cal = self.calib.camera
        if rgb.shape[:2] != (cal.height_px, cal.width_px):
            raise ValueError(f"camera images on {self.topics.camera} are {rgb.shape[1]}x{rgb.shape[0]} px but the "
                             f"calibration ({self.calib.source}) says {cal.width_px}x{cal.height_px}: give --calib "
                             f"with camera width_px, height_px and K")
        return rgb

    def _ego(self, stamp: float, pose: Pose2D, previous: Pose2D | None) -> EgoState:
        speed = pose.speed_mps
        if speed is None:  # a bare pose: the speed over the last tick
            speed = 0.0 if previous is None else float(np.hypot(pose.x_m - previous.x_m, pose.y_m - previous.y_m)) / self.dt_s
        return EgoState(stamp, pose.x_m, pose.y_m, pose.yaw_rad, speed, yaw_rate_radps=pose.yaw_rate_radps or 0.0,
                        length_m=self.calib.ego.length_m, width_m=self.calib.ego.width_m)


def _nearest(times: np.ndarray, t_ns: int, tolerance_s: float) -> int | None:
    if not len(times):
        return None
    i = int(np.searchsorted(times, t_ns))
    best = min((j for j in (i - 1, i) if 0 <= j < len(times)), key=lambda j: abs(int(times[j]) - t_ns))
    return int(times[best]) if abs(int(times[best]) - t_ns) <= tolerance_s * 1e9 else None


def foreign_summary(path: str | Path, topics: TopicMap, calib_path: str | Path | None = None) -> ForeignSummary:
    """What ``log info --topics`` prints."""
    calib = load_calibration(calib_path)
    with McapLog(path) as log:
        return ForeignSource.open(log, topics, calib).summary
