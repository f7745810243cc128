"""``drivestack log info``: topics, message counts, time span, metadata and damage of a log."""
from __future__ import annotations

import json
from pathlib import Path

from sim.logs import schemas as S
from sim.logs.index import LogIndex, scan
from sim.logs.reader import McapLog

LONG_VALUE_CHARS = 100
"""Metadata values longer than this are shortened in the text report (``--json`` has them whole)."""


def log_index(path: str | Path) -> LogIndex:
    with McapLog(path) as log:
        return scan(log)


def interrupted(index: LogIndex) -> bool:
    """Whether the run behind the log was interrupted (the recorder's ``drivestack.end`` record)."""
    return index.metadata.get(S.END_METADATA, {}).get("interrupted") == "true"


def whole(index: LogIndex) -> bool:
    """A finished, undamaged log of a run that was not interrupted (``log info`` exits 0 only then)."""
    return index.finished and not index.issues and not interrupted(index)


def format_info(index: LogIndex) -> str:
    state = "finished" if index.finished else "not finished (no index at the end)"
    if interrupted(index):
        state += ", interrupted"
    lines = [f"log: {index.path} ({_size(index.size_bytes)}, {state}; written by {index.library or 'unknown'})"]
    if index.start_ns is None:
        lines.append("messages: none readable")
    else:
        lines.append(f"time: {index.start_ns / 1e9:.3f} s to {index.end_ns / 1e9:.3f} s since episode start "
                     f"(duration {index.duration_s:.2f} s, {index.ticks} ticks)")
    lines.append(f"chunks: {index.chunks_ok} readable, {index.chunks_damaged} damaged")
    if index.topics:
        rows = [("topic", "schema", "encoding", "messages")] + \
            [(t, s.schema, s.encoding, str(s.count)) for t, s in index.topics.items()]
        widths = [max(len(r[i]) for r in rows) + 2 for i in range(3)]  # foreign logs' names can be long
        lines += [f"{a:<{widths[0]}}{b:<{widths[1]}}{c:<{widths[2]}}{n:>9}" for a, b, c, n in rows]
    for name, (media, size) in index.attachments.items():
        lines.append(f"attachment: {name} ({media}, {_size(size)})")
    for name, values in index.metadata.items():
        lines.append(f"metadata {name}:")
        key_width = max((len(k) for k in values), default=0) + 2
        lines += [f"  {k:<{key_width}}{_short(v)}" for k, v in values.items()]
    if index.issues:
        lines.append("damage (what is listed above is what could be read):")
        lines += [f"  - {issue}" for issue in index.issues]
    return "\n".join(lines)


def info_json(index: LogIndex) -> dict:
    return {"path": str(index.path), "size_bytes": index.size_bytes, "finished": index.finished,
            "library": index.library, "ticks": index.ticks, "start_ns": index.start_ns, "end_ns": index.end_ns,
            "duration_s": index.duration_s, "chunks_ok": index.chunks_ok, "chunks_damaged": index.chunks_damaged,
            "topics": {t: s.__dict__ for t, s in index.topics.items()}, "metadata": {**index.metadata},
            "attachments": {k: {"media_type": m, "size_bytes": n} for k, (m, n) in index.attachments.items()},
            "issues": list(index.issues)}


def _short(value: str) -> str:
    try:
        parsed = json.loads(value)  # values are JSON documents: strings print bare, the rest on one line
        value = parsed if isinstance(parsed, str) else json.dumps(parsed, sort_keys=True)
    except ValueError:
        pass
    if len(value) <= LONG_VALUE_CHARS:
        return value
    return f"{value[:LONG_VALUE_CHARS]}... ({len(value)} characters; --json prints all)"


def _size(n: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000.0
    return f"{n:.1f} GB"
