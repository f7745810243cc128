"""One pass over a log: topics with schemas and message counts, time span, metadata, attachments and
damage (what ``drivestack log info`` prints and replay checks before it starts)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from sim.logs import schemas as S
from sim.logs.reader import McapLog


@dataclass(frozen=True)
class TopicStats:
    """Messages of one topic: schema name, message encoding, count, first and last log time [ns]."""

    schema: str
    encoding: str
    count: int
    first_ns: int
    last_ns: int


@dataclass(frozen=True)
class LogIndex:
    """What a log holds. Times are log times [ns since episode start]; ``ticks`` counts distinct
    log times; ``issues`` lists damage, one line each (empty for an intact file)."""

    path: Path
    size_bytes: int
    finished: bool
    library: str
    topics: Mapping[str, TopicStats]
    metadata: Mapping[str, Mapping[str, str]]
    attachments: Mapping[str, tuple[str, int]]
    chunks_ok: int
    chunks_damaged: int
    ticks: int
    start_ns: int | None
    end_ns: int | None
    issues: tuple[str, ...]

    @property
    def duration_s(self) -> float:
        return 0.0 if self.start_ns is None else (self.end_ns - self.start_ns) / 1e9

    def run(self) -> dict:
        """The ``drivestack.run`` metadata with its JSON values decoded ({} when absent)."""
        raw = self.metadata.get(S.RUN_METADATA, {})
        out = {}
        for key, value in raw.items():
            try:
                out[key] = json.loads(value)
            except ValueError:
                out[key] = value
        return out

    def sensors(self, kind: str) -> list[str]:
        """Names of the cameras or lidars ('camera' / 'lidar') whose data topic has messages."""
        return sorted(t.split("/")[2] for t, s in self.topics.items() if S.sensor_kind(t) == kind and s.count)


def scan(log: McapLog) -> LogIndex:
    """Read the whole log once (damage is collected into ``log.issues`` on the way)."""
    counts: dict[str, list] = {}
    times: set[int] = set()
    for msg in log.messages():
        times.add(msg.log_time_ns)
        entry = counts.get(msg.topic)
        if entry is None:
            counts[msg.topic] = [msg.schema, msg.encoding, 1, msg.log_time_ns, msg.log_time_ns]
        else:
            entry[2] += 1
            entry[3], entry[4] = min(entry[3], msg.log_time_ns), max(entry[4], msg.log_time_ns)
    topics = {t: TopicStats(*v) for t, v in sorted(counts.items())}
    return LogIndex(log.path, log.size_bytes, log.finished, log.library, topics, dict(log.metadata),
                    {k: (m, len(d)) for k, (m, d) in log.attachments.items()}, log.chunks_ok, log.chunks_damaged,
                    len(times), min(times, default=None), max(times, default=None), tuple(log.issues))
