"""Combine the per-episode rows of two `evaluate --json` files: every row of NEW, plus the rows of OLD
for (scenario, planner, world model) groups NEW does not have (e.g. re-run only the planner that
changed, keep the baselines' rows), and print and write the combined table.

    python scripts/merge_results.py OLD.json NEW.json OUT.json   # also writes OUT.txt
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from sim.evaluation.metrics import EpisodeMetrics, aggregate, format_table, to_json


def _episodes(path: str) -> tuple[list[EpisodeMetrics], dict]:
    data = json.loads(Path(path).read_text())
    # a null TTC is an infinite one; older files wrote it as the string "inf"
    rows = [EpisodeMetrics(**{**e, "min_ttc_s": float("inf") if e["min_ttc_s"] is None else float(e["min_ttc_s"])})
            for e in data["episodes"]]
    return rows, data.get("meta", {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("out")
    args = parser.parse_args()
    old, meta = _episodes(args.old)
    new, new_meta = _episodes(args.new)
    groups = {(e.scenario, e.planner, e.world_model) for e in new}
    kept = [e for e in old if (e.scenario, e.planner, e.world_model) not in groups]
    episodes = new + kept
    order = {k: i for i, k in enumerate(dict.fromkeys((e.scenario, e.planner) for e in old + new))}
    episodes.sort(key=lambda e: (order[(e.scenario, e.planner)], e.world_model, e.seed))
    payload = to_json(episodes, aggregate(episodes))
    payload["meta"] = {**meta, "merged": {"kept_from": args.old, "groups_from": args.new, "new_meta": new_meta}}
    Path(args.out).write_text(json.dumps(payload, indent=2) + "\n")
    table = format_table(aggregate(episodes)) + f"\njson: {args.out}\n"
    Path(args.out).with_suffix(".txt").write_text(table)
    print(table, end="")


if __name__ == "__main__":
    main()
