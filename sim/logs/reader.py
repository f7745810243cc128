"""The project's own MCAP reader, tolerant of damage.

It walks the file record by record from the start (it never trusts the index at the end, which a
killed recorder never wrote) and decodes each chunk on its own: a chunk whose compression or CRC
check fails is reported and skipped, a record whose length runs past the end of the file marks a
truncation (reading stops there), and a record that cannot be framed at all is skipped by scanning
forward to the next well-formed chunk. Every problem becomes one line in ``issues``; what is intact
is read. Only a file that is not MCAP at all (or is empty) raises, as a ``ValueError``.
"""
from __future__ import annotations

import json
import mmap
import struct
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Iterator

import zstandard
from mcap.data_stream import ReadDataStream
from mcap.exceptions import McapError
from mcap.opcode import Opcode
from mcap.records import Attachment, Channel, Chunk, Message, Metadata, Schema
from mcap.stream_reader import breakup_chunk

from sim.logs import schemas as S

MAGIC = b"\x89MCAP0\r\n"
MAX_CHUNK_BYTES = 1 << 30
"""A chunk claiming to decompress to more than this is damaged (it would exhaust memory)."""
DAMAGE = (McapError, ValueError, struct.error, EOFError, IndexError, OverflowError, RuntimeError, MemoryError,
          UnicodeDecodeError, zstandard.ZstdError)
"""What decoding damaged bytes can raise (CRC mismatches are ValueErrors)."""
_KNOWN = {int(o) for o in Opcode}
_COMPRESSIONS = (b"", b"zstd", b"lz4")


@dataclass(frozen=True)
class ChannelInfo:
    topic: str
    schema: str
    encoding: str


@dataclass(frozen=True)
class RawMessage:
    """One message as stored: its topic, schema name, message encoding, log time [ns] and payload."""

    topic: str
    schema: str
    encoding: str
    log_time_ns: int
    data: bytes


class McapLog:
    """Opens a log; ``messages()`` yields what is readable in file order. ``issues`` lists the damage
    met so far (a full pass over ``messages()`` finds all of it; ``sim.logs.index.scan`` makes one)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise ValueError(f"log not found: {self.path}")
        if not self.path.is_file():
            raise ValueError(f"log path {self.path} is not a file")
        if self.path.stat().st_size == 0:
            raise ValueError(f"{self.path} is empty (0 bytes): not an MCAP log")
        with open(self.path, "rb") as fh:
            head = fh.read(len(MAGIC))
            if head != MAGIC:
                raise ValueError(f"{self.path} is not an MCAP file (it does not start with the MCAP magic bytes)")
            self._mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        self.issues: list[str] = []
        self.channels: dict[int, ChannelInfo] = {}
        self._schemas: dict[int, str] = {}
        self.schema_data: dict[str, bytes] = {}
        """Schema name -> its stored definition (what a foreign log's ROS 2 messages decode with)."""
        self.metadata: dict[str, dict[str, str]] = {}
        self.attachments: dict[str, tuple[str, bytes]] = {}
        self.library = ""
        self.finished = False
        self.chunks_ok = self.chunks_damaged = 0
        self.unknown_channel_messages = 0

    @property
    def size_bytes(self) -> int:
        return len(self._mm)

    def close(self) -> None:
        self._mm.close()

    def __enter__(self) -> "McapLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def messages(self) -> Iterator[RawMessage]:
        """Every readable message, in file order (the order the recorder wrote them)."""
        self.chunks_ok = self.chunks_damaged = self.unknown_channel_messages = 0
        for offset, opcode, body in self._records():
            if opcode == Opcode.CHUNK:
                yield from self._chunk_messages(offset, body)
            else:
                yield from self._top_level(offset, opcode, body)
        if self.unknown_channel_messages:
            self.report(f"{self.unknown_channel_messages} messages on channels with no definition were skipped")

    def report(self, text: str) -> None:
        if text not in self.issues:
            self.issues.append(text)

    def _records(self) -> Iterator[tuple[int, int, bytes]]:
        mm, size, pos = self._mm, len(self._mm), len(MAGIC)
        while pos < size:
            if size - pos < 9:
                self.report(f"file is cut off at byte {size} inside a record header: the recording did not finish")
                return
            opcode, length = struct.unpack_from("<BQ", mm, pos)
            end = pos + 9 + length
            malformed = opcode == Opcode.CHUNK and not _looks_like_chunk(mm, pos, size)
            if opcode not in _KNOWN or end > size or malformed:
                nxt = self._resync(pos + 1)
                if nxt is None:
                    self.report(_framing_issue(pos, opcode, length, size))
                    return
                self.report(f"unreadable record at byte {pos}: skipped {nxt - pos} bytes to the next chunk")
                pos = nxt
                continue
            yield pos, opcode, mm[pos + 9:end]  # a copy: no view may outlive close()
            pos = end
            if opcode == Opcode.FOOTER:
                self.finished = mm[pos:pos + len(MAGIC)] == MAGIC
                if not self.finished:
                    self.report("the footer is not followed by the closing magic bytes")
                return
        self.report(f"file ends at byte {size} without a footer: the recording did not finish (no index)")

    def _resync(self, start: int) -> int | None:
        """Offset of the next record at or after ``start`` that frames as a well-formed chunk."""
        mm, size, pos = self._mm, len(self._mm), start
        while True:
            pos = mm.find(bytes([Opcode.CHUNK]), pos)
            if pos < 0 or pos + 9 + 40 > size:
                return None
            if _looks_like_chunk(mm, pos, size):
                return pos
            pos += 1

    def _chunk_messages(self, offset: int, body: bytes) -> Iterator[RawMessage]:
        try:
            chunk = Chunk.read(ReadDataStream(BytesIO(body)))
            if chunk.uncompressed_size > MAX_CHUNK_BYTES:
                raise ValueError(f"claims {chunk.uncompressed_size} bytes uncompressed")
            records = breakup_chunk(chunk, validate_crc=True)
        except DAMAGE as exc:
            self.chunks_damaged += 1
            self.report(f"chunk at byte {offset} is damaged ({_reason(exc)}): its messages are skipped")
            return
        self.chunks_ok += 1
        for record in records:
            if isinstance(record, Message):
                yield from self._message(record)
            elif isinstance(record, (Schema, Channel)):
                self._register(record)

    def _top_level(self, offset: int, opcode: int, body: bytes) -> Iterator[RawMessage]:
        stream = ReadDataStream(BytesIO(body))
        try:
            if opcode == Opcode.MESSAGE:
                yield from self._message(Message.read(stream, len(body)))
            elif opcode in (Opcode.SCHEMA, Opcode.CHANNEL):
                self._register((Schema if opcode == Opcode.SCHEMA else Channel).read(stream))
            elif opcode == Opcode.METADATA:
                self._metadata(Metadata.read(stream))
            elif opcode == Opcode.ATTACHMENT:
                self._attachment(offset, body)
            elif opcode == Opcode.HEADER:
                stream.read_prefixed_string()  # profile
                self.library = stream.read_prefixed_string()
        except DAMAGE as exc:
            self.report(f"{Opcode(opcode).name.lower()} record at byte {offset} is damaged ({_reason(exc)})")

    def _message(self, record: Message) -> Iterator[RawMessage]:
        ch = self.channels.get(record.channel_id)
        if ch is None:
            self.unknown_channel_messages += 1
            return
        yield RawMessage(ch.topic, ch.schema, ch.encoding, record.log_time, record.data)

    def _register(self, record) -> None:
        if isinstance(record, Schema):
            self._schemas[record.id] = record.name
            self.schema_data.setdefault(record.name, record.data)
        else:
            schema = self._schemas.get(record.schema_id, self._fallback_schema(record.id))
            self.channels[record.id] = ChannelInfo(record.topic, schema, record.message_encoding)

    def _fallback_schema(self, channel_id: int) -> str:
        ch = self.channels.get(channel_id)
        return ch.schema if ch is not None else ""

    def _metadata(self, record: Metadata) -> None:
        self.metadata[record.name] = dict(record.metadata)
        if record.name != S.CHANNEL_METADATA:
            return
        try:  # the writer's channel table: a fallback for channel records lost with a damaged chunk
            table = {int(cid): ChannelInfo(*(str(v) for v in json.loads(spec))) for cid, spec in record.metadata.items()}
        except (ValueError, TypeError):
            self.report(f"the {S.CHANNEL_METADATA} metadata is damaged: it is ignored")
            return
        for cid, info in table.items():
            self.channels.setdefault(cid, info)

    def _attachment(self, offset: int, body: bytes) -> None:
        crc = struct.unpack_from("<I", body, len(body) - 4)[0]
        if crc and zlib.crc32(body[:-4]) != crc:
            raise ValueError("CRC mismatch")
        att = Attachment.read(ReadDataStream(BytesIO(body)))
        self.attachments[att.name] = (att.media_type, att.data)


def _looks_like_chunk(mm, pos: int, size: int) -> bool:
    length = struct.unpack_from("<Q", mm, pos + 1)[0]
    if pos + 9 + length > size or length < 40:
        return False
    clen = struct.unpack_from("<I", mm, pos + 9 + 28)[0]
    if clen > 4 or length < 40 + clen or mm[pos + 41:pos + 41 + clen] not in _COMPRESSIONS:
        return False
    records_len = struct.unpack_from("<Q", mm, pos + 41 + clen)[0]
    return records_len == length - (40 + clen)


def _framing_issue(pos: int, opcode: int, length: int, size: int) -> str:
    if opcode in _KNOWN:
        return (f"file is cut off at byte {size}: the {Opcode(opcode).name.lower()} record at byte {pos} "
                f"needs {length} bytes; the recording did not finish")
    return f"unreadable data from byte {pos} to the end of the file ({size - pos} bytes)"


def _reason(exc: BaseException) -> str:
    text = (str(exc).splitlines() or [type(exc).__name__])[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
