"""Closed-loop tick rate with ``simulate --live`` streaming to one subscribed WebSocket client vs the
same run without it, interleaved over repeats on the same seed; the figure is the ratio of medians.

Both runs render the sensors and run the diagnostics (a perception run renders them anyway; --live
needs them). The client is a separate process (as Foxglove would be) that subscribes to every channel
and reads every message. Tick period = wall time between the first and the last tick's sinks / ticks.

    python scripts/bench_live.py --world-model perception --seconds 10 --repeats 3 --json docs/results/live_overhead.json
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIENT = f"""
import json, sys
sys.path.insert(0, {str(ROOT / 'tests' / 'sim' / 'live')!r})
from ws_client import FoxgloveClient
client = FoxgloveClient(int(sys.argv[1]))
assert client.wait_for(lambda: len(client.channels) > 0)
client.subscribe_all()
print("subscribed", flush=True)
client._thread.join()
print(json.dumps({{"messages": sum(len(v) for v in client.received.values()),
                  "bytes": sum(len(p) for v in client.received.values() for _, p in v)}}), flush=True)
"""


class Timed:
    """A sink wrapped to sum the wall time spent inside it [s] (the live view's own cost per tick)."""

    def __init__(self, sink) -> None:
        self.sink, self.total_s, self.calls = sink, 0.0, 0

    def __call__(self, record) -> None:
        t0 = time.perf_counter()
        self.sink(record)
        self.total_s += time.perf_counter() - t0
        self.calls += 1


class TickClock:
    """A sink noting when each tick reached the sinks."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def __call__(self, record) -> None:
        self.times.append(time.perf_counter())

    def period_ms(self) -> float:
        return 1000.0 * (self.times[-1] - self.times[0]) / (len(self.times) - 1)


def run(setup, seed: int, live: bool) -> dict:
    from sim.diagnostics import DiagnosticsMonitor, config_for
    from sim.live import LiveView
    from sim.loop.runner import run_episode

    monitor, clock = DiagnosticsMonitor(config_for(setup)), TickClock()
    if not live:
        run_episode(setup, seed, [monitor, clock], sensors=True)
        return {"tick_ms": clock.period_ms(), "ticks": len(clock.times)}
    view = LiveView.start(setup, "127.0.0.1", 0, diagnostics=monitor)
    client = subprocess.Popen([sys.executable, "-c", CLIENT, str(view.port)], stdout=subprocess.PIPE, text=True)
    try:
        assert client.stdout.readline().strip() == "subscribed"
        while not all(ch.has_sinks() for ch in view.server.channels.values()):
            time.sleep(0.01)
        timed = Timed(view)
        run_episode(setup, seed, [monitor, timed, clock], sensors=True)
    finally:
        view.close()
    received = json.loads(client.stdout.readline())
    client.wait(timeout=30)
    return {"tick_ms": clock.period_ms(), "ticks": len(clock.times), "live_sink_ms": 1000 * timed.total_s / timed.calls,
            **received}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world-model", default="perception")
    ap.add_argument("--seconds", type=float, default=10.0, help="episode length [s] (10 Hz ticks)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from sim.bench.timing import machine_info
    from sim.loop.setup import build_setup

    setup = build_setup("highway", "rule", args.world_model, [f"scenario.duration_s={args.seconds}"])
    run(setup, args.seed, False)  # warm-up: networks loaded, ONNX sessions built
    rows = {"off": [], "live": []}
    for _ in range(args.repeats):
        for mode in ("off", "live"):
            rows[mode].append(run(setup, args.seed, mode == "live"))
            print(mode, json.dumps(rows[mode][-1]), flush=True)
    off, on = (statistics.median(r["tick_ms"] for r in rows[m]) for m in ("off", "live"))
    sink = statistics.median(r["live_sink_ms"] for r in rows["live"])
    pairs = [100.0 * (b["tick_ms"] / a["tick_ms"] - 1.0) for a, b in zip(rows["off"], rows["live"])]
    result = {"world_model": args.world_model, "seconds": args.seconds, "repeats": args.repeats,
              "tick_ms_without_live": off, "tick_ms_with_live_one_client": on,
              "slowdown_percent": 100.0 * (on / off - 1.0), "live_sink_ms_per_tick": sink,
              "live_sink_percent_of_tick": 100.0 * sink / off, "pair_slowdowns_percent": pairs,
              "machine": machine_info(), "runs": rows}
    print(f"{args.world_model}: {off:.1f} ms per tick without --live, {on:.1f} ms with one client "
          f"({result['slowdown_percent']:+.1f} %), median of {args.repeats}; the live sink itself {sink:.2f} ms "
          f"per tick ({result['live_sink_percent_of_tick']:.1f} % of a tick); pairs "
          f"{', '.join(f'{p:+.0f} %' for p in pairs)}; {result['machine']}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
