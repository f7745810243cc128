"""The RL safety mask's effect: the same policy on the same seeds with the mask on and off.

    python scripts/mask_effect.py --scenario highway --world-model ground_truth --seeds 600:620 \
        [--policy FILE] [--workers 2] [--out docs/results/mask_effect.txt]

Per setting: episodes, collisions, mean speed, distance, decisions, interventions (decisions where the
mask overruled the policy's favourite, ``planning.action_mask``: a refused lane change, or a refused
speed-up alone) and interventions per km, and lane changes under way that the executor aborted
because their gap became unsafe (with the mask off, none are).
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from sim.backends.local import run_parallel
from sim.evaluation.metrics import compute_episode_metrics
from sim.loop.drivers import make_driver
from sim.loop.runner import run_episode
from sim.loop.setup import build_setup


@dataclass(frozen=True)
class Job:
    scenario: str
    world_model: str
    seed: int
    mask: bool
    policy: str | None


def run(job: Job) -> dict:
    setup = build_setup(job.scenario, "rl", job.world_model, [f"planner.safety_mask.enabled={job.mask}"], job.policy)
    driver = make_driver("rl", setup.planner_config, setup.controller_config, setup.policy_file)
    m = compute_episode_metrics(run_episode(setup, job.seed, driver=driver))
    return {"mask": job.mask, "seed": job.seed, "collided": m.collided, "speed_mps": m.mean_speed_mps,
            "progress_m": m.progress_m, "decisions": driver.planner.decisions,
            "aborted_changes": driver.planner.executor.aborted_changes,
            **{f"{k}_interventions": v for k, v in driver.planner.interventions.items()}}


def summarise(rows: list[dict], mask: bool) -> str:
    rows = [r for r in rows if r["mask"] == mask]
    km = sum(r["progress_m"] for r in rows) / 1000.0
    lane, speed = (sum(r[f"{k}_interventions"] for r in rows) for k in ("lane", "speed"))
    aborts = sum(r["aborted_changes"] for r in rows)
    return (f"{'on' if mask else 'off':<5}{len(rows):>9}{sum(r['collided'] for r in rows):>11}"
            f"{sum(r['speed_mps'] for r in rows) / len(rows):>10.2f}{km:>8.2f}{sum(r['decisions'] for r in rows):>10}"
            f"{lane:>7}{lane / km:>8.2f}{speed:>7}{speed / km:>8.2f}{aborts:>7}{aborts / km:>8.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default="highway")
    p.add_argument("--world-model", default="ground_truth")
    p.add_argument("--seeds", default="600:620", help="A:B, the seeds A..B-1")
    p.add_argument("--policy", default=None, help="policy file (default: the shipped one)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", default=None, help="write the table here (and the rows beside it as .json)")
    args = p.parse_args()
    a, b = (int(v) for v in args.seeds.split(":"))
    jobs = [Job(args.scenario, args.world_model, s, mask, args.policy) for mask in (True, False) for s in range(a, b)]
    rows = run_parallel(run, jobs, args.workers, desc="episodes", unit="ep")
    head = (f"RL safety mask, {args.scenario}, world model {args.world_model}, seeds {a}-{b - 1}, "
            f"policy {args.policy or 'shipped'}\n"
            + " " * 57 + "interventions: lane change  speed-up  change aborted\n"
            "mask  episodes collisions  speed m/s      km  decisions  count  per km  count  per km  count  per km")
    text = "\n".join([head, summarise(rows, True), summarise(rows, False)]) + "\n"
    print(text, end="")
    if args.out:
        Path(args.out).write_text(text)
        Path(args.out).with_suffix(".json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
