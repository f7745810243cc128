"""Benchmark: closed-loop stack step vs bare highway-env step on the identical config, one run."""
from __future__ import annotations

from sim.bench.timing import bare_step_ms, machine_info, medians
from sim.loop.runner import Timings, run_episode
from sim.loop.setup import RunSetup


def stack_step(setup: RunSetup, seed: int) -> tuple[float, dict[str, float], int]:
    """Mean closed-loop tick [ms], per-phase ms per tick (plus the planning call's median and p99),
    and ticks, over one episode."""
    timings = Timings()
    run_episode(setup, seed, timings=timings)
    per = timings.per_tick_ms()
    total = sum(v for k, v in per.items() if "." not in k)  # "a.b" entries are parts of "a"
    calls = {"plan_call_p50_ms": timings.percentile_ms("plan_and_control", 50),
             "plan_call_p99_ms": timings.percentile_ms("plan_and_control", 99)}
    return total, {**per, **calls}, timings.ticks


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
    top = [k for k in m if k not in ("ticks", "bare_ms", "stack_ms", "ratio") and "." not in k
           and not k.startswith("plan_call")]
    phases = [p for k in top for p in [k, *(c for c in m if c.startswith(k + "."))]]
    lines = [f"closed-loop benchmark: {result['scenario']} / {result['planner']} / {result['world_model']}, "
             f"median of {result['repeats']} episodes ({result['machine']})",
             f"  bare highway-env step      {m['bare_ms']:8.2f} ms",
             f"  closed-loop tick (total)   {m['stack_ms']:8.2f} ms   = {m['ratio']:.2f} x bare step",
             *[f"    {k:<24} {m[k]:8.2f} ms" if "." not in k else f"      {k.split('.', 1)[1]:<22} {m[k]:8.2f} ms"
               for k in phases],
             f"  planning call (plan_and_control) per tick: median {m['plan_call_p50_ms']:.2f} ms, "
             f"p99 {m['plan_call_p99_ms']:.2f} ms",
             f"  stack overhead on top of the bare step: {100 * (m['ratio'] - 1):.0f}%  "
             f"({1000.0 / m['stack_ms']:.1f} closed-loop steps/s vs {1000.0 / m['bare_ms']:.1f} bare steps/s)"]
    return "\n".join(lines)
