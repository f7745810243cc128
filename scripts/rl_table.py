"""One table from several result JSON files (simulate/evaluate --json): the RL acceptance table.

    python scripts/rl_table.py OUT.txt FILE[:planner:world_model] ...

Each FILE contributes its highway episodes, optionally only one planner / world model; rows are
aggregated with the project's metrics code, so they read exactly like `drivestack evaluate`.
"""
import json
import sys

from sim.evaluation.metrics import EpisodeMetrics, aggregate, format_table


def episodes(spec: str) -> list[EpisodeMetrics]:
    path, *filt = spec.split(":")
    rows = [e for e in json.load(open(path))["episodes"] if e["scenario"] == "highway"]
    if filt:
        rows = [e for e in rows if e["planner"] == filt[0] and e["world_model"] == filt[1]]
    return [EpisodeMetrics(**{k: _number(v) for k, v in e.items()}) for e in sorted(rows, key=lambda e: e["seed"])]


def _number(value):
    """An infinite TTC is null in the JSON (older files spelled non-finite floats as strings)."""
    if value is None:
        return float("inf")
    return float(value) if isinstance(value, str) and value.lstrip("-") in ("inf", "nan", "Infinity") else value


if __name__ == "__main__":
    out, specs = sys.argv[1], sys.argv[2:]
    eps = [e for spec in specs for e in episodes(spec)]
    table = format_table(aggregate(eps))
    seeds = sorted({e.seed for e in eps})
    text = f"highway, seeds {seeds[0]}-{seeds[-1]} ({len(seeds)} per row)\n{table}\n"
    print(text, end="")
    open(out, "w").write(text)
