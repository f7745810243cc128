"""A minimal Foxglove WebSocket protocol v1 client for tests: connect, read advertisements, subscribe,
collect message data (per topic, with log times) and send playback control requests."""
from __future__ import annotations

import json
import struct
import threading
import time

from websockets.sync.client import connect

SUBPROTOCOL = "foxglove.sdk.v1"
"""What the SDK's server accepts (its protocol v1; the older "foxglove.websocket.v1" name is refused)."""
MESSAGE_DATA, TIME = 1, 2
PLAYBACK_CONTROL_REQUEST = 3
"""Client binary opcode: command u8 (0 play, 1 pause), speed f32, had seek u8, seek time u64 [ns],
request id length u32 and the id (little endian)."""


class FoxgloveClient:
    """Reads the socket in a thread; ``channels`` maps channel id -> advertised channel (dict),
    ``received`` topic -> [(log_time_ns, payload)], ``playback_states`` the raw binary states."""

    def __init__(self, port: int) -> None:
        self._connect = connect(f"ws://127.0.0.1:{port}", subprotocols=[SUBPROTOCOL], open_timeout=10, max_size=None)
        self.ws = self._connect.__enter__()
        self.server_info: dict = {}
        self.channels: dict[int, dict] = {}
        self.received: dict[str, list[tuple[int, bytes]]] = {}
        self.playback_states: list[bytes] = []
        self.time_ns: int | None = None
        self._subs: dict[int, str] = {}
        self._lock = threading.RLock()  # conditions given to wait_for may read through the accessors
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for frame in self.ws:
                self._handle(frame)
        except Exception:  # the server closed
            return

    def _handle(self, frame) -> None:
        if isinstance(frame, str):
            msg = json.loads(frame)
            if msg["op"] == "serverInfo":
                self.server_info = msg
            elif msg["op"] == "advertise":
                with self._lock:
                    self.channels.update({c["id"]: c for c in msg["channels"]})
            return
        opcode = frame[0]
        if opcode == MESSAGE_DATA:
            sub, log_time = struct.unpack_from("<IQ", frame, 1)
            with self._lock:
                self.received.setdefault(self._subs[sub], []).append((log_time, bytes(frame[13:])))
        elif opcode == TIME:
            self.time_ns = struct.unpack_from("<Q", frame, 1)[0]
        else:  # playback states and any other server binary message, raw
            self.playback_states.append(bytes(frame))

    def wait_for(self, condition, timeout_s: float = 10.0) -> bool:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            with self._lock:
                if condition():
                    return True
            time.sleep(0.02)
        return False

    def subscribe_all(self) -> list[str]:
        """Subscribe to every advertised channel; the topics."""
        with self._lock:
            subs = [{"id": i, "channelId": cid} for i, cid in enumerate(sorted(self.channels))]
            self._subs = {s["id"]: self.channels[s["channelId"]]["topic"] for s in subs}
        self.ws.send(json.dumps({"op": "subscribe", "subscriptions": subs}))
        return sorted(self._subs.values())

    def topics(self) -> list[str]:
        with self._lock:
            return sorted(c["topic"] for c in self.channels.values())

    def clear(self) -> None:
        with self._lock:
            self.received = {}

    def messages(self, topic: str) -> list[tuple[int, bytes]]:
        with self._lock:
            return list(self.received.get(topic, []))

    def playback(self, play: bool, speed: float = 1.0, seek_ns: int | None = None, request_id: str = "r") -> None:
        rid = request_id.encode()
        self.ws.send(struct.pack("<BBfBQI", PLAYBACK_CONTROL_REQUEST, 0 if play else 1, speed, seek_ns is not None,
                                 seek_ns or 0, len(rid)) + rid)

    def close(self) -> None:
        self.ws.close()
        self._thread.join(timeout=5)
