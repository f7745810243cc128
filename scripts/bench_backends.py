"""Episodes per hour of one `drivestack simulate` run on each execution backend and worker count,
timed from the command's start to its exit (start-up and result gathering included), plus the
scaling efficiency from 1 to N workers. The runs are interleaved over the repeats, so a slow spell of
a shared machine hits every configuration alike; the figure is the median.

    python scripts/bench_backends.py --episodes 20 --repeats 1 --json docs/results/backends.json
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(backend: str, workers: int, episodes: int, extra: list[str], out: Path) -> float:
    cmd = [sys.executable, "-m", "sim.cli.main", "simulate", "--episodes", str(episodes), "--seed", "700",
           "--backend", backend, "--workers", str(workers), "--json", str(out), *extra]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2, help="the larger worker count (compared with 1)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    extra = [a for o in args.overrides for a in ("--set", o)]
    configs = [(b, w) for b in ("local", "ray") for w in (1, args.workers)]
    times: dict = {c: [] for c in configs}
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            for backend, workers in configs:
                out = Path(tmp) / f"{backend}_{workers}.json"
                times[(backend, workers)].append(run(backend, workers, args.episodes, extra, out))
                results[(backend, workers)] = json.loads(out.read_text())["episodes"]
    same = all(r == results[configs[0]] for r in results.values())
    rows = []
    for backend, workers in configs:
        wall = statistics.median(times[(backend, workers)])
        one = statistics.median(times[(backend, 1)])
        rows.append({"backend": backend, "workers": workers, "wall_s": wall, "episodes_per_hour": 3600 * args.episodes / wall,
                     "scaling_efficiency": one / (wall * workers), "runs_s": times[(backend, workers)]})
    print(f"{args.episodes} highway episodes per run, median of {args.repeats}; identical episodes on every backend: {same}")
    print(f"{'backend':<8}{'workers':>8}{'wall s':>9}{'episodes/h':>12}{'scaling':>9}")
    for r in rows:
        print(f"{r['backend']:<8}{r['workers']:>8}{r['wall_s']:>9.1f}{r['episodes_per_hour']:>12.0f}"
              f"{r['scaling_efficiency']:>9.2f}")
    for w in (1, args.workers):
        local, ray = (next(r for r in rows if r["backend"] == b and r["workers"] == w) for b in ("local", "ray"))
        print(f"Ray overhead at {w} worker(s): {ray['wall_s'] / local['wall_s'] - 1:+.1%}")
    if args.json is not None:
        args.json.write_text(json.dumps({"episodes": args.episodes, "repeats": args.repeats, "overrides": args.overrides,
                                         "identical_results": same, "rows": rows}, indent=2))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
