"""``replay --serve``: playback control over WebSocket. Seek to t and the next messages are stamped t
(the stack re-run there, backwards included); play advances in log time; pause stops."""
import json
import threading

import pytest

from sim.live import LogPlayer
from sim.logs import schemas as S
from sim.logs.record import LogRecorder
from sim.logs.replay_config import ReplayOptions
from sim.loop.runner import run_episode
from sim.loop.setup import build_setup
from ws_client import FoxgloveClient


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    setup = build_setup("highway", "rule", "ground_truth", ["scenario.duration_s=1.5"])
    path = tmp_path_factory.mktemp("serve") / "run.mcap"
    recorder = LogRecorder(path, setup, seed=2)
    try:
        run_episode(setup, 2, [recorder], sensors=True)
    finally:
        recorder.close()
    player = LogPlayer(path, ReplayOptions(progress=False), "127.0.0.1", 0)
    thread = threading.Thread(target=player.run, daemon=True)
    thread.start()
    assert player.ready.wait(timeout=60)  # the first tick is out: what comes next answers the requests
    client = FoxgloveClient(player.port)
    try:
        assert client.wait_for(lambda: len(client.channels) > 0)
        assert "playbackControl" in client.server_info["capabilities"]
        client.subscribe_all()
        assert client.wait_for(lambda: all(ch.has_sinks() for ch in player.server.channels.values()))
        yield player, client
    finally:
        client.close()
        player.stop()
        thread.join(timeout=10)


def stamps(client, topic=S.TRACKS):
    return [t for t, _ in client.messages(topic)]


@pytest.mark.parametrize("tick", [8, 3])  # forwards, then backwards (tracker and planner re-run from the start)
def test_seek_publishes_the_tick_at_the_requested_time(served, tick):
    player, client = served
    t_ns = player.stamps_ns[tick]
    client.clear()
    client.playback(play=False, seek_ns=t_ns)
    assert client.wait_for(lambda: stamps(client) and stamps(client, S.TRAJECTORY))
    assert stamps(client) == [t_ns] and stamps(client, S.TRAJECTORY) == [t_ns]
    tracks = json.loads(client.messages(S.TRACKS)[0][1])
    assert tracks["stamp"] == pytest.approx(t_ns / 1e9) and tracks["source"] == "perception" and tracks["tracks"]
    assert json.loads(client.messages(S.DETECTIONS)[0][1])["batches"]  # detections re-run at t
    assert {t for t, _ in client.messages(S.DIAGNOSTICS)} == {t_ns}


def test_play_advances_at_the_requested_speed_and_pause_stops(served):
    player, client = served
    client.clear()
    client.playback(play=False, seek_ns=player.stamps_ns[2])
    assert client.wait_for(lambda: stamps(client) == [player.stamps_ns[2]])
    client.clear()
    client.playback(play=True, speed=4.0)
    assert client.wait_for(lambda: len(stamps(client)) >= 4, timeout_s=10)
    client.playback(play=False, speed=4.0)
    got = stamps(client)
    assert got[:4] == player.stamps_ns[3:7]  # the ticks after the seek, in order
    assert client.wait_for(lambda: not player.playing and not player._pending)
    settled = _quiet_count(client)  # a tick sent just before the pause may still be on the wire
    assert not client.wait_for(lambda: len(stamps(client)) > settled, timeout_s=0.5)  # paused: nothing more


def _quiet_count(client, quiet_s: float = 0.3, limit_s: float = 3.0) -> int:
    """The number of stamps received once none has arrived for ``quiet_s`` (at most ``limit_s``)."""
    count = len(stamps(client))
    for _ in range(int(limit_s / quiet_s)):
        if not client.wait_for(lambda: len(stamps(client)) > count, timeout_s=quiet_s):
            break
        count = len(stamps(client))
    return count
