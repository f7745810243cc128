"""``replay LOG --serve``: a recorded log served to Foxglove with playback control (play, pause, seek,
speed) through the SDK's playback-control support, the stack re-run at the requested time.

Each published tick is the replayed stack's output (today's detectors, tracker, planner and the
diagnostics) beside the recorded sensors and ground truth, on the log's topics. The tracker and
planner carry state from tick to tick, so a seek backwards replays them from the start of the log
up to the requested tick (detections are kept per tick, so only tracking and planning run again);
a seek forwards runs them on from where they are.
"""
from __future__ import annotations

import bisect
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sim.live.server import FoxgloveServer
from sim.logs import schemas as S
from sim.logs.index import scan
from sim.logs.messages import Message, diagnostics_message, lane_markers, tick_messages, topic_schemas
from sim.logs.reader import McapLog
from sim.logs.replay import ReplayEngine, ReplayedTick, empty_message
from sim.logs.replay_config import ReplayOptions, resolve
from sim.logs.ticks import read_ticks
from sim.logs.types import LoggedTick


@dataclass(frozen=True)
class PlaybackRequest:
    """A client's request: ``play`` or pause, at ``speed`` x real time, after seeking to ``seek_ns``
    (None: no seek) [ns of log time]."""

    play: bool
    speed: float
    seek_ns: int | None


def _listener(player: "LogPlayer"):
    from foxglove.websocket import PlaybackCommand, ServerListener

    class Listener(ServerListener):
        def on_subscribe(self, client, channel) -> None:
            if channel.topic == S.MARKERS_LANES:
                player.resend_lanes = True

        def on_playback_control_request(self, request):
            return player.request(PlaybackRequest(request.playback_command == PlaybackCommand.Play,
                                                  float(request.playback_speed), request.seek_time),
                                  request.request_id)

    return Listener()


class LogPlayer:
    """Serves ``path`` on ``host``:``port`` (0: any free port); ``run()`` plays until ``stop()``.
    Starts paused at the first tick."""

    def __init__(self, path: str | Path, options: ReplayOptions, host: str = "127.0.0.1", port: int = 8765) -> None:
        with McapLog(path) as log:
            self.index = scan(log)
            if self.index.ticks == 0:
                raise ValueError(empty_message(self.index))
            self.lanes = log.attachments.get(S.LANE_MAP_ATTACHMENT, (None, None))[1]
            self.ticks: list[LoggedTick] = [t for t in read_ticks(log) if t.ego is not None]
        if not self.ticks:
            raise ValueError(f"{self.index.path} has no tick with an ego state: nothing can be replayed")
        self.options = options
        self.cfg = resolve(self.index, self.lanes, options)
        self.stamps_ns = [t.stamp_ns for t in self.ticks]
        self._detections: dict[int, list] = {}
        self._engine: ReplayEngine | None = None
        self._next = 0  # the tick the engine steps next
        self.position = 0  # the tick published next
        self.playing, self.speed = False, 1.0
        self.resend_lanes = True
        self._pending: list[PlaybackRequest] = []
        self._lock, self._stop = threading.Lock(), threading.Event()
        self.ready = threading.Event()
        """Set once the first tick is published (the detectors are loaded by then)."""
        topics = topic_schemas(self.index.sensors("camera"), self.index.sensors("lidar"), diagnostics=True)
        self.server = FoxgloveServer(topics, host, port, "drivestack replay", _listener(self),
                                     (self.stamps_ns[0], self.stamps_ns[-1]))
        self.port = self.server.port

    def request(self, req: PlaybackRequest, request_id: str | None = None):
        """A client's request (called on the server's thread): queued for ``run``; the new state."""
        from foxglove.websocket import PlaybackState, PlaybackStatus

        with self._lock:
            self._pending.append(req)
        t = req.seek_ns if req.seek_ns is not None else self.stamps_ns[min(self.position, len(self.ticks) - 1)]
        return PlaybackState(PlaybackStatus.Playing if req.play else PlaybackStatus.Paused, int(t), req.speed,
                             req.seek_ns is not None, request_id)

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Publish the first tick, then follow the requests until ``stop()`` (or Ctrl-C)."""
        self.publish(0)
        self.position = 1
        self.ready.set()
        clock: tuple[float, int] | None = None  # (wall time, log time) playback started from
        try:
            while not self._stop.is_set():
                if self._apply_requests():
                    clock = None
                if not self.playing or self.position >= len(self.ticks):
                    self._end_if_done()
                    time.sleep(0.01)
                    continue
                if clock is None:
                    clock = (time.monotonic(), self.stamps_ns[self.position])
                due = clock[0] + (self.stamps_ns[self.position] - clock[1]) / 1e9 / max(self.speed, 1e-3)
                if time.monotonic() < due:
                    time.sleep(min(0.01, due - time.monotonic()))
                    continue
                self.publish(self.position)
                self.position += 1
        finally:
            self.server.close()

    def _apply_requests(self) -> bool:
        """Apply queued requests (a seek publishes the tick at the requested time); whether any came."""
        with self._lock:
            pending, self._pending = self._pending, []
        for req in pending:
            self.playing, self.speed = req.play, req.speed if req.speed > 0 else self.speed
            if req.seek_ns is not None:
                index = min(bisect.bisect_left(self.stamps_ns, req.seek_ns), len(self.ticks) - 1)
                self.publish(index)
                self.position = index + 1
        return bool(pending)

    def _end_if_done(self) -> None:
        if self.playing and self.position >= len(self.ticks):
            from foxglove.websocket import PlaybackState, PlaybackStatus

            self.playing = False
            self.server.server.broadcast_playback_state(
                PlaybackState(PlaybackStatus.Ended, self.stamps_ns[-1], self.speed, False, None))

    def publish(self, index: int) -> None:
        """The stack re-run up to tick ``index``, and that tick published."""
        replayed = self._replay_to(index)
        self.server.publish(self.messages(self.ticks[index], replayed), self.stamps_ns[index])

    def messages(self, tick: LoggedTick, out: ReplayedTick) -> list[Message]:
        replayed = LoggedTick(tick.stamp, tick.frame, tick.ego, out.world.ego_lane_id, tick.ground_truth,
                              out.detections, out.world.tracks, "perception", out.trajectory, self.cfg.planner,
                              out.command)
        messages = list(tick_messages(replayed)) + [diagnostics_message(tick.stamp, out.diagnostics)]
        if self.resend_lanes and self.cfg.lane_map is not None:
            self.resend_lanes = False
            messages.append(lane_markers(tick.stamp, self.cfg.lane_map))
        return messages

    def _replay_to(self, index: int) -> ReplayedTick:
        if self._engine is None or index < self._next:  # backwards: tracker and planner from the start
            self._engine = ReplayEngine(self.index, self.cfg, self.options, self.lanes)
            self._next = 0
        out = None
        while self._next <= index:
            out = self._engine.step(self.ticks[self._next], self._detect(self._next))
            self._next += 1
        return out

    def _detect(self, index: int) -> list:
        if index not in self._detections:
            self._detections[index] = self._engine.detect([self.ticks[index]])[0]
        return self._detections[index]
