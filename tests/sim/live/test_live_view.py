"""``simulate --live``: a WebSocket client on a loopback port subscribes to every advertised channel
and receives each of them within a few ticks, stamped with the tick time; a taken port is one clear error."""
import json
import socket

import pytest
from foxglove_schemas_protobuf.CompressedImage_pb2 import CompressedImage

from sim.cli.main import main
from sim.diagnostics import DiagnosticsMonitor, config_for
from sim.live import LiveView
from sim.logs import schemas as S
from sim.logs.types import stamp_to_ns
from sim.loop.setup import build_setup, open_env
from sim.loop.tick import Episode
from ws_client import FoxgloveClient

MAX_TICKS = 5


@pytest.fixture(scope="module")
def streamed():
    """A surrogate-world-model episode (detections without the networks) streamed tick by tick to one
    subscribed client: (advertised topics, per-topic messages, tick stamps, ticks until all arrived)."""
    setup = build_setup("highway", "rule", "surrogate", ["scenario.duration_s=2"])
    monitor = DiagnosticsMonitor(config_for(setup))
    live = LiveView.start(setup, "127.0.0.1", 0, diagnostics=monitor)
    client = FoxgloveClient(live.port)
    env = open_env(setup)
    try:
        assert client.wait_for(lambda: len(client.channels) > 0), "no channels advertised"
        topics = client.subscribe_all()
        assert client.wait_for(lambda: all(ch.has_sinks() for ch in live.server.channels.values()))
        episode, stamps, ticks = Episode(env, setup, 0, sensors=True), [], None
        for k in range(MAX_TICKS):
            record = episode.tick()
            live(record)
            stamps.append(record.stamp)
            if client.wait_for(lambda: set(client.received) >= set(topics), timeout_s=2.0):
                ticks = k + 1
                break
        for _ in range(2):  # two more, to see the stamps move on
            record = episode.tick()
            live(record)
            stamps.append(record.stamp)
        client.wait_for(lambda: len(client.messages(S.EGO)) == len(stamps), timeout_s=2.0)
        return topics, {t: client.messages(t) for t in topics}, stamps, ticks
    finally:
        client.close()
        live.close()
        env.close()


def test_every_advertised_channel_delivers_within_a_few_ticks(streamed):
    topics, received, _, ticks = streamed
    missing = [t for t in topics if not received[t]]
    assert not missing and ticks is not None and ticks <= MAX_TICKS
    # the log's topics and schemas, plus the live-only figures
    assert {S.TF, S.image_topic("front"), S.points_topic("roof"), S.MARKERS_GT, S.MARKERS_DETECTIONS,
            S.MARKERS_TRACKS, S.MARKERS_PLAN, S.MARKERS_LANES, S.EGO, S.DIAGNOSTICS, S.METRICS} <= set(topics)


def test_messages_carry_the_tick_time_and_decode(streamed):
    _, received, stamps, _ = streamed
    tick_ns = [stamp_to_ns(s) for s in stamps]
    assert len(tick_ns) >= 3 and tick_ns[-1] > 0
    assert [t for t, _ in received[S.EGO]] == tick_ns and [t for t, _ in received[S.DIAGNOSTICS]] == tick_ns
    assert [json.loads(p)["stamp"] for _, p in received[S.EGO]] == pytest.approx(stamps)
    image = CompressedImage.FromString(received[S.image_topic("front")][0][1])
    assert image.format == "png" and image.data[:4] == b"\x89PNG" and image.frame_id == "front"
    diagnostics = json.loads(received[S.DIAGNOSTICS][0][1])
    assert {"tracker", "planner", "controller", "lidar/roof"} <= {s["module"] for s in diagnostics["statuses"]}
    assert json.loads(received[S.METRICS][0][1])["values"]["speed_mps"] > 0


def test_a_taken_port_is_one_clear_error(capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        setup = build_setup("highway", "rule", "ground_truth", ["scenario.duration_s=1"])
        with pytest.raises(ValueError, match=f"cannot serve Foxglove on 127.0.0.1:{port}: .*in use"):
            LiveView.start(setup, "127.0.0.1", port)
        assert main(["simulate", "--live", "--port", str(port), "--set", "scenario.duration_s=1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot serve Foxglove" in err[0]


def test_bad_port_number_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["simulate", "--live", "--port", "70000"])
    assert stop.value.code == 2 and "port 70000 is out of range" in capsys.readouterr().err


def test_the_shipped_layout_names_only_topics_the_stack_publishes():
    """docs/foxglove_layout.json serves logs and the live view: every topic it shows is one of theirs."""
    import re
    from pathlib import Path

    from sim.live import live_topics

    text = (Path(__file__).resolve().parents[3] / "docs" / "foxglove_layout.json").read_text()
    layout = json.loads(text)
    topics = set(live_topics(["front"], ["roof"]))
    named = {m.split(".")[0] for m in re.findall(r'"(/[a-z_/]+(?:\.[a-z_.]+)?)"', text)}
    assert named and named <= topics, named - topics
    panels = set(re.findall(r'"([A-Za-z0-9]+![a-z]+)"', json.dumps(layout["layout"])))
    assert panels == set(layout["configById"])
