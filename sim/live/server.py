"""A Foxglove WebSocket server (the official ``foxglove-sdk``) carrying the log's topics: one channel
per topic with the very schema the log writer stores, so a Foxglove layout made for logs works live.
"""
from __future__ import annotations

from typing import Iterable

from sim.logs.messages import Message
from sim.logs.writer import schema_record


class FoxgloveServer:
    """The server and its channels, in a context of their own (several servers can run in one
    process). ``topics`` maps each topic to its schema name; ``listener`` gets the SDK's
    ``ServerListener`` callbacks; ``playback_range_ns`` (start, end) turns on playback control."""

    def __init__(self, topics: dict[str, str], host: str, port: int, name: str = "drivestack", listener=None,
                 playback_range_ns: tuple[int, int] | None = None) -> None:
        import foxglove
        from foxglove.websocket import Capability

        self._foxglove = foxglove
        self.context = foxglove.Context()
        self.channels = {topic: self._channel(topic, schema) for topic, schema in topics.items()}
        capabilities = [Capability.Time] if playback_range_ns is None else []
        try:
            self.server = foxglove.start_server(name=name, host=host, port=port, context=self.context,
                                                capabilities=capabilities, server_listener=listener,
                                                playback_time_range=playback_range_ns)
        except RuntimeError as exc:  # the SDK reports a taken port as a RuntimeError naming the OS error
            raise ValueError(f"cannot serve Foxglove on {host}:{port}: {str(exc).split(': ', 1)[-1]}") from None
        self.port: int = self.server.port

    def _channel(self, topic: str, schema: str):
        encoding, data, message_encoding = schema_record(schema)
        return self._foxglove.Channel(topic, schema=self._foxglove.Schema(name=schema, encoding=encoding, data=data),
                                      message_encoding=message_encoding, context=self.context)

    def subscribed(self) -> bool:
        """Whether any client subscribes to any channel (nothing needs encoding otherwise)."""
        return any(channel.has_sinks() for channel in self.channels.values())

    def publish(self, messages: Iterable[Message], stamp_ns: int) -> None:
        """Each (topic, schema, payload) on its channel at ``stamp_ns``; a topic without a channel is
        an error (the channel table is fixed when the server starts, so clients see every topic)."""
        for topic, _, payload in messages:
            channel = self.channels.get(topic)
            if channel is None:
                raise ValueError(f"topic {topic} has no channel on the live server")
            channel.log(payload, log_time=stamp_ns)

    def status(self, key: str, message: str | None, level: str = "warning") -> None:
        """Show ``message`` in the clients' problem list under ``key`` (None: remove it)."""
        if message is None:
            self.server.remove_status([key])
            return
        levels = {"info": self._foxglove.StatusLevel.Info, "warning": self._foxglove.StatusLevel.Warning,
                  "error": self._foxglove.StatusLevel.Error}
        self.server.publish_status(message, levels[level], id=key)

    def close(self) -> None:
        self.server.stop()
