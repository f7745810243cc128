"""Chunked, compressed MCAP writer for drivestack logs.

Each tick's messages go into zstd chunks of about ``CHUNK_SIZE_BYTES``; the file is flushed after
every tick, so a process killed mid-run leaves every chunk that was complete readable (the
project's reader recovers them; the index at the end is written by ``close``). Run metadata, the
channel table and the lane map are written first, as top-level records outside any chunk, so a
damaged chunk cannot take them away.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from mcap.writer import CompressionType, Writer
from mcap_protobuf.schema import build_file_descriptor_set

from sim.logs import schemas as S
from sim.logs.foxglove import PROTOBUF_TYPES
from sim.logs.messages import Message, tick_messages
from sim.logs.types import LoggedTick

CHUNK_SIZE_BYTES = 1 << 20
"""About two ticks of the default rig (a lidar sweep is ~300 kB); what a damaged chunk costs."""


def schema_record(name: str) -> tuple[str, bytes, str]:
    """(schema encoding, schema data, message encoding) of a schema name."""
    if name in PROTOBUF_TYPES:
        return "protobuf", build_file_descriptor_set(PROTOBUF_TYPES[name]).SerializeToString(), S.PROTOBUF
    if name in S.JSON_SCHEMAS:
        return "jsonschema", S.json_schema_bytes(name), S.JSON
    raise ValueError(f"unknown log schema '{name}'")


class LogWriter:
    """``write_tick`` per tick, then ``close`` (also as a context manager).

    ``metadata`` (string values) becomes the ``drivestack.run`` metadata record; ``topics`` maps
    the topics to register up front to their schema names (others are registered on first use);
    ``lane_map_json`` is stored as the ``lane_map.json`` attachment.
    """

    def __init__(self, path: str | Path, metadata: dict[str, str], topics: dict[str, str],
                 lane_map_json: bytes | None = None, chunk_size_bytes: int = CHUNK_SIZE_BYTES) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"log path {self.path} is a directory")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "wb")
        self._mcap = Writer(self._fh, chunk_size=chunk_size_bytes, compression=CompressionType.ZSTD)
        self._mcap.start(profile="", library=f"drivestack log format {S.FORMAT_VERSION}")
        self._schema_ids: dict[str, int] = {}
        self._channels: dict[str, int] = {}
        self._table: dict[str, str] = {}
        for topic, schema in topics.items():
            self._channel(topic, schema)
        self._mcap.add_metadata(S.RUN_METADATA, metadata)
        self._mcap.add_metadata(S.CHANNEL_METADATA, dict(self._table))
        if lane_map_json is not None:
            self._mcap.add_attachment(create_time=0, log_time=0, name=S.LANE_MAP_ATTACHMENT,
                                      media_type="application/json", data=lane_map_json)
        self._fh.flush()
        self.ticks = 0
        self._closed = False

    def write_tick(self, tick: LoggedTick, extra: Iterable[Message] = ()) -> None:
        """All messages of ``tick`` (plus ``extra`` ones), stamped with its time; then flush."""
        ns = tick.stamp_ns
        for messages in (extra, tick_messages(tick)):
            for topic, schema, payload in messages:
                self._mcap.add_message(self._channel(topic, schema), log_time=ns, data=payload, publish_time=ns,
                                       sequence=self.ticks)
        self._fh.flush()
        self.ticks += 1

    def close(self, interrupted: bool = False) -> None:
        """Write the summary (index, statistics) and close the file; an ``interrupted`` run is marked
        in a ``drivestack.end`` metadata record (``log info`` reports it)."""
        if self._closed:
            return
        self._closed = True
        if interrupted:
            self._mcap.add_metadata(S.END_METADATA, {"interrupted": "true", "ticks": str(self.ticks)})
        try:
            self._mcap.finish()
        finally:
            self._fh.close()

    def __enter__(self) -> "LogWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _channel(self, topic: str, schema: str) -> int:
        if topic in self._channels:
            return self._channels[topic]
        encoding, data, message_encoding = schema_record(schema)
        if schema not in self._schema_ids:
            self._schema_ids[schema] = self._mcap.register_schema(name=schema, encoding=encoding, data=data)
        cid = self._mcap.register_channel(topic=topic, message_encoding=message_encoding,
                                          schema_id=self._schema_ids[schema])
        self._channels[topic] = cid
        self._table[str(cid)] = json.dumps([topic, schema, message_encoding])
        return cid
