"""``simulate --live``: a tick sink streaming every closed-loop tick to Foxglove as it happens, on the
log's topics (sensors, boxes, plan, lanes, transforms, ego, diagnostics) plus ``/metrics``."""
from __future__ import annotations

import time

from sim.diagnostics import DiagnosticsMonitor, DiagnosticStatus, Level
from sim.live.server import FoxgloveServer
from sim.logs import schemas as S
from sim.logs.messages import Message, diagnostics_message, lane_markers, metrics_message, tick_messages, topic_schemas
from sim.logs.record import logged_tick
from sim.logs.types import stamp_to_ns
from sim.loop.setup import RunSetup
from sim.loop.tick import TickRecord


def live_topics(cameras: list[str], lidars: list[str]) -> dict[str, str]:
    """Every topic a live server advertises: the log's (diagnostics included) and ``/metrics``."""
    return {**topic_schemas(cameras, lidars, diagnostics=True), S.METRICS: "drivestack.Metrics"}


def tick_metrics(record: TickRecord) -> dict[str, float]:
    """Figures to plot live: the true ego state, the command, counts and the time per stage [ms]."""
    ego, world = record.ground_truth.ego, record.world
    out = {"speed_mps": ego.speed_mps, "lane_offset_m": ego.lane_offset_m, "tracks": len(world.tracks),
           "detections": sum(len(b) for b in record.detections or ())}
    if record.command is not None:
        out.update(accel_mps2=record.command.accel_mps2, steering_rad=record.command.steering_rad)
    out.update({f"{k.replace('.', '_')}_ms": 1000.0 * v for k, v in record.timings_s.items()})
    return out


def _listener():
    """A ``foxglove.websocket.ServerListener`` (imported on use: the SDK loads only for a live run)."""
    from foxglove.websocket import ServerListener

    class Listener(ServerListener):
        """Notes new subscriptions to the lane markers, which are drawn once and must be re-sent."""

        def __init__(self) -> None:
            self.resend_lanes = True

        def on_subscribe(self, client, channel) -> None:
            if channel.topic == S.MARKERS_LANES:
                self.resend_lanes = True

    return Listener()


class LiveView:
    """Call with each ``TickRecord`` (``run_episode(..., sensors=True)``); ``close()`` stops the server.
    With a ``diagnostics`` monitor, each tick's statuses go on ``/diagnostics`` and every module not
    OK shows in Foxglove's problem list until it recovers. ``rate`` paces the loop to that multiple
    of real time (it waits after a tick that ran ahead; 0: as fast as it runs)."""

    def __init__(self, server: FoxgloveServer, listener, planner: str,
                 diagnostics: DiagnosticsMonitor | None = None, rate: float = 0.0) -> None:
        self.server, self.listener, self.planner, self.diagnostics = server, listener, planner, diagnostics
        self.port = server.port
        self.rate = rate
        self.ticks = 0
        self._shown: dict[str, Level] = {}
        self._start: float | None = None

    @classmethod
    def start(cls, setup: RunSetup, host: str = "127.0.0.1", port: int = 8765,
              diagnostics: DiagnosticsMonitor | None = None, rate: float = 0.0) -> "LiveView":
        from sim.sensors.rig import load_rig

        rig = setup.rig or load_rig()
        listener = _listener()
        topics = live_topics([c.name for c in rig.cameras], [l.name for l in rig.lidars])
        return cls(FoxgloveServer(topics, host, port, "drivestack simulate", listener), listener, setup.planner,
                   diagnostics, rate)

    def __call__(self, record: TickRecord) -> None:
        statuses = self.diagnostics.statuses(record) if self.diagnostics is not None else ()
        self._show_problems(statuses)
        self.ticks += 1
        ns = stamp_to_ns(record.stamp)
        self.server.server.broadcast_time(ns)
        if self.server.subscribed():  # nobody watching: encode nothing
            self.server.publish(self.messages(record, statuses), ns)
        self._pace(record.stamp)

    def _pace(self, stamp: float) -> None:
        if self.rate <= 0:
            return
        now = time.monotonic()
        if self._start is None:
            self._start = now - stamp / self.rate
        time.sleep(max(0.0, self._start + stamp / self.rate - now))

    def messages(self, record: TickRecord, statuses: tuple[DiagnosticStatus, ...]) -> list[Message]:
        out = list(tick_messages(logged_tick(record, self.planner)))
        if self.listener.resend_lanes:
            self.listener.resend_lanes = False
            out.append(lane_markers(record.stamp, record.world.lane_map))
        if self.diagnostics is not None:
            out.append(diagnostics_message(record.stamp, statuses))
        out.append(metrics_message(record.stamp, tick_metrics(record)))
        return out

    def _show_problems(self, statuses: tuple[DiagnosticStatus, ...]) -> None:
        for s in statuses:
            if self._shown.get(s.module, Level.OK) == s.level:
                continue
            self._shown[s.module] = s.level
            text = None if s.level == Level.OK else f"{s.module}: {s.message}"
            self.server.status(s.module, text, "error" if s.level == Level.ERROR else "warning")

    def close(self) -> None:
        self.server.close()
