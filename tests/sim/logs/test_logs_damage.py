"""Bad logs: truncated, a corrupt chunk, not MCAP, a missing sensor topic, empty. Each gives a clear
message, what is intact is read and replayed, and nothing raises past the CLI."""
import pytest
from conftest import record_log

from sim.cli.main import main
from sim.logs.index import scan
from sim.logs.reader import McapLog
from sim.logs.replay import replay_log
from sim.logs.replay_config import ReplayOptions
from sim.logs.writer import LogWriter

TICKS = 20
QUIET = ReplayOptions(progress=False)


@pytest.fixture(scope="module")
def log_path(tmp_path_factory):
    return record_log(tmp_path_factory.mktemp("damage") / "run.mcap", "perception", TICKS / 10, seed=1)


def _chunks(path):
    """(offset, length) of every chunk, from the mcap library's own index of the intact file."""
    from mcap.reader import make_reader

    with open(path, "rb") as fh:
        return [(c.chunk_start_offset, c.chunk_length) for c in make_reader(fh).get_summary().chunk_indexes]


def _flip(data: bytearray, offset: int, length: int) -> None:
    middle = offset + length // 2
    data[middle:middle + 64] = bytes(b ^ 0xFF for b in data[middle:middle + 64])


def _index(path):
    with McapLog(path) as log:
        return scan(log)


def _cli(capsys, *args):
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_truncated_log_replays_every_complete_chunk(log_path, tmp_path, capsys):
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(log_path.read_bytes()[: int(0.6 * log_path.stat().st_size)])
    index = _index(cut)
    assert not index.finished and 0 < index.ticks < TICKS
    assert any("cut off" in i and "did not finish" in i for i in index.issues)
    code, out, err = _cli(capsys, "replay", cut, "--compare")
    assert code == 0 and "PASS" in out                    # the intact ticks replay exactly as recorded
    assert "drivestack: warning: file is cut off" in err and "Traceback" not in err
    assert f"replay of {cut}: {index.topics['/ego/state'].count} ticks" in out


def test_corrupt_chunk_is_skipped_and_the_rest_replayed(log_path, tmp_path, capsys):
    chunks = _chunks(log_path)
    assert len(chunks) >= 3
    data = bytearray(log_path.read_bytes())
    _flip(data, *chunks[1])
    bad = tmp_path / "bad_chunk.mcap"
    bad.write_bytes(bytes(data))
    index = _index(bad)
    assert index.finished and index.chunks_damaged == 1 and index.chunks_ok == len(chunks) - 1
    assert index.issues == (f"chunk at byte {chunks[1][0]} is damaged ({index.issues[0].split('(', 1)[1]}",)
    assert 0 < index.ticks < TICKS
    result = replay_log(bad, ReplayOptions(progress=False, compare=True))
    assert result.ticks + result.skipped_ticks == index.ticks
    assert result.comparison["passed"] and result.comparison["detections_only_ticks"] > 0
    code, out, _ = _cli(capsys, "log", "info", bad)
    assert code == 1 and "1 damaged" in out and f"chunk at byte {chunks[1][0]} is damaged" in out  # damage: exit 1


def test_lost_first_chunk_of_an_unfinished_log_still_decodes_the_rest(log_path, tmp_path):
    """Channel definitions live in the first chunk; the writer's channel table recovers them."""
    chunks = _chunks(log_path)
    data = bytearray(log_path.read_bytes()[: chunks[-1][0] + 100])
    _flip(data, *chunks[0])
    bad = tmp_path / "first_chunk.mcap"
    bad.write_bytes(bytes(data))
    index = _index(bad)
    assert not index.finished and index.chunks_damaged == 1 and len(index.issues) == 2
    assert index.topics["/lidar/roof/points"].schema == "foxglove.PointCloud" and index.ticks > 5
    result = replay_log(bad, QUIET)
    assert result.ticks > 5 and result.scores["detection"]["lidar"]["replay"]["n_gt"] > 0


@pytest.mark.parametrize("content", [b"hello, this is not a log\n", b"\x89PNG\r\n\x1a\n" + bytes(100)])
def test_file_that_is_not_mcap_is_one_clear_error(tmp_path, capsys, content):
    path = tmp_path / "not.mcap"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="is not an MCAP file"):
        McapLog(path)
    for args in (("replay", path), ("log", "info", path), ("bench-replay", path)):
        code, _, err = _cli(capsys, *args)
        assert code == 2 and err == f"drivestack: error: {path} is not an MCAP file (it does not start with the " \
                                     f"MCAP magic bytes)\n"


def test_empty_logs(tmp_path, capsys):
    zero, magic, no_ticks = tmp_path / "zero.mcap", tmp_path / "magic.mcap", tmp_path / "no_ticks.mcap"
    zero.write_bytes(b"")
    magic.write_bytes(b"\x89MCAP0\r\n")
    LogWriter(no_ticks, {"format_version": "1"}, {}).close()
    code, _, err = _cli(capsys, "replay", zero)
    assert code == 2 and err.strip() == f"drivestack: error: {zero} is empty (0 bytes): not an MCAP log"
    for path in (magic, no_ticks):
        code, out, err = _cli(capsys, "log", "info", path)
        assert code == (1 if path == magic else 0) and "messages: none readable" in out  # unfinished: exit 1
        code, out, err = _cli(capsys, "replay", path)
        assert code == 2 and err.startswith(f"drivestack: error: {path} holds no readable messages: nothing to replay")
        assert len(err.strip().splitlines()) == 1
    assert "without a footer" in _index(magic).issues[0] and _index(no_ticks).issues == ()


def test_log_without_the_lidar_topic_replays_camera_only(log_path, tmp_path, capsys):
    """The log is rewritten without /lidar/roof/points by the mcap library's own reader and writer."""
    from mcap.reader import make_reader
    from mcap.writer import Writer

    lidarless = tmp_path / "no_lidar.mcap"
    with open(log_path, "rb") as src, open(lidarless, "wb") as dst:
        reader, writer = make_reader(src), Writer(dst)
        writer.start()
        summary = reader.get_summary()
        schema_ids = {i: writer.register_schema(s.name, s.encoding, s.data) for i, s in summary.schemas.items()}
        channel_ids = {i: writer.register_channel(c.topic, c.message_encoding, schema_ids[c.schema_id])
                       for i, c in summary.channels.items() if c.topic != "/lidar/roof/points"}
        for meta in reader.iter_metadata():
            if meta.name == "drivestack.run":
                writer.add_metadata(meta.name, meta.metadata)
        for att in reader.iter_attachments():
            writer.add_attachment(att.create_time, att.log_time, att.name, att.media_type, att.data)
        for _, channel, message in reader.iter_messages():
            if channel.id in channel_ids:
                writer.add_message(channel_ids[channel.id], message.log_time, message.data, message.publish_time)
        writer.finish()
    result = replay_log(lidarless, QUIET)
    assert result.config.detectors == ("camera",) and result.ticks == TICKS and result.incomplete_ticks == TICKS
    assert any("no lidar data" in n and "without the lidar detector" in n for n in result.config.notes)
    assert result.scores["tracking"]["sensors"] == "camera" and result.scores["detection"]["camera"]["replay"]["frames"]
    code, out, err = _cli(capsys, "replay", lidarless)
    assert code == 0 and "replaying without the lidar detector" in err and "camera" in out


@pytest.mark.parametrize("args,needle", [
    (["replay", "missing.mcap"], "log not found: missing.mcap"),
    (["replay", "LOG", "--tolerance", "-1"], "--tolerance must be >= 0"),
    (["replay", "LOG", "--set", "scenario.duration_s=3"], "'scenario' is fixed by the recording"),
    (["replay", "LOG", "--set", "perception.detectors=[radar]"], "unknown detector 'radar'; valid: camera, classical"),
    (["replay", "LOG", "--weights-lidar", "nowhere.pt"], "lidar weights not found: nowhere.pt"),
    (["replay", "LOG", "--set", "perception.detectors=[camera]", "--weights-lidar", "x.pt"],
     "--weights-lidar given but the lidar detector is not replayed"),
    (["replay", "LOG", "--out", "LOG"], "is the log being replayed"),
    (["bench-replay", "LOG", "--repeats", "0"], "--repeats must be at least 1"),
    (["log"], "the following arguments are required: {info}"),
])
def test_replay_user_errors_are_one_line_and_exit_2(log_path, capsys, args, needle):
    code, _, err = _cli(capsys, *[str(log_path) if a == "LOG" else a for a in args])
    assert code == 2 and needle in err
    assert err.startswith("drivestack: error: ") and len(err.strip().splitlines()) == 1


def test_random_damage_never_raises(log_path, tmp_path):
    """Seeded random byte flips and cuts anywhere in the file: the reader reports, it never raises."""
    import numpy as np

    from sim.logs.ticks import read_ticks

    original, rng = log_path.read_bytes(), np.random.default_rng(0)
    for trial in range(16):
        data = bytearray(original)
        at = int(rng.integers(8, len(data) - 16))
        data[at:at + 16] = rng.integers(0, 256, 16, dtype=np.uint8).tobytes()
        if trial % 4 == 3:
            data = data[:at]
        path = tmp_path / f"fuzz{trial}.mcap"
        path.write_bytes(bytes(data))
        with McapLog(path) as log:
            ticks = list(read_ticks(log))
            assert log.issues or len(ticks) == TICKS       # damage found, or it hit bytes no reader needs


def test_log_info_keeps_the_columns_of_a_foreign_log_apart(tmp_path, capsys):
    from mcap.writer import Writer

    path = tmp_path / "foreign.mcap"
    with open(path, "wb") as fh:  # short topic names and schemaless channels: narrower than the headings
        writer = Writer(fh)
        writer.start(profile="", library="another-recorder")
        channels = [writer.register_channel("/a", "json", 0),
                    writer.register_channel("/b", "flatbuffer", writer.register_schema("x", "flatbuffer", b""))]
        for i in range(3):
            writer.add_message(channels[i % 2], log_time=i * 100_000_000, data=b"{}", publish_time=i * 100_000_000)
        writer.finish()
    code, out, _ = _cli(capsys, "log", "info", path)
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("topic"))
    rows = [line for line in lines if line.startswith(("/a", "/b"))]
    assert code == 0 and header.split() == ["topic", "schema", "encoding", "messages"]
    assert [r.split() for r in rows] == [["/a", "json", "2"], ["/b", "x", "flatbuffer", "1"]]
    assert rows[1].index("x") == header.index("schema") and rows[1].index("flatbuffer") == header.index("encoding")
