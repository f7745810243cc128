"""Benchmark: closed-loop stack step vs bare highway-env step on the identical config, one run."""
from __future__ import annotations

from sim.bench.timing import bare_step_ms, machine_info, medians
from sim.loop.runner import Timings, run_episode
from sim.loop.setup import RunSetup


def stack_step(setup: RunSetup, seed: int) -> tuple[float, dict[str, float], int]:
    """Mean closed-loop tick [ms], per-phase ms per tick, and ticks, over one episode."""
    timings = Timings()
    run_episode(setup, seed, timings=timings)
    per = timings.per_tick_ms()
    return sum(v for k, v in per.items() if "." not in k), per, timings.ticks  # "a.b" entries are parts of "a"


def run_bench(setup: RunSetup, repeats: int, seed: int = 0) -> dict:
    """Interleave bare and stack runs on the same seeds; report medians and the median ratio."""
    rows = []
    for r in range(repeats):
        tick_ms, per, ticks = stack_step(setup, seed + r)
        bare_ms = bare_step_ms(setup, seed + r, ticks)
        rows.append({"seed": seed + r, "ticks": ticks, "bare_ms": bare_ms, "stack_ms": tick_ms, **per,
                     "ratio": tick_ms / bare_ms})
    med = medians(rows)
    return {"scenario": setup.scenario.name, "planner": setup.planner, "world_model": setup.world_model,
            "repeats": repeats, "median": med, "runs": rows, "machine": machine_info()}


def format_bench(result: dict) -> str:
    m = result["median"]
    top = [k for k in m if k not in ("ticks", "bare_ms", "stack_ms", "ratio") and "." not in k]
    phases = [p for k in top for p in [k, *(c for c in m if c.startswith(k + "."))]]
    lines = [f"closed-loop benchmark: {result['scenario']} / {result['planner']} / {result['world_model']}, "
             f"median of {result['repeats']} episodes ({result['machine']})",
             f"  bare highway-env step      {m['bare_ms']:8.2f} ms",
             f"  closed-loop tick (total)   {m['stack_ms']:8.2f} ms   = {m['ratio']:.2f} x bare step",
             *[f"    {k:<24} {m[k]:8.2f} ms" if "." not in k else f"      {k.split('.', 1)[1]:<22} {m[k]:8.2f} ms"
               for k in phases],
             f"  stack overhead on top of the bare step: {100 * (m['ratio'] - 1):.0f}%  "
             f"({1000.0 / m['stack_ms']:.1f} closed-loop steps/s vs {1000.0 / m['bare_ms']:.1f} bare steps/s)"]
    return "\n".join(lines)
