"""Watching the stack in Foxglove over WebSocket: the live closed loop (``simulate --live``) and a
recorded log served with playback control (``replay --serve``), on the same topics and schemas as
the logs (``docs/foxglove_layout.json`` serves both)."""
from sim.live.playback import LogPlayer, PlaybackRequest
from sim.live.server import FoxgloveServer
from sim.live.view import LiveView, live_topics, tick_metrics

__all__ = ["FoxgloveServer", "LiveView", "LogPlayer", "PlaybackRequest", "live_topics", "tick_metrics"]
