"""Write the card of a per-scenario policy from its training run, and copy the policy and its curves.

    python scripts/policy_card.py RUN_DIR --scenario merge --idm-json IDM.json --command "drivestack train ..." \
        --commit REV

RUN_DIR is a ``drivestack train --model policy`` output (``train.json``, ``eval.csv``,
``best_model.zip``, ``checkpoints/``, ``learning_curves.png``). IDM.json is ``drivestack simulate
--scenario S --planner idm --episodes 4 --seed 900000 --json IDM.json``: idm's speed on the
validation seeds, the target of the time-to-target figure. Writes ``planning/policies/S_dqn.zip``
(the best validation checkpoint), ``S_dqn_curves.png`` and ``S_dqn.md``.
"""
from __future__ import annotations

import argparse
import csv
import json
import shutil
from pathlib import Path

POLICIES = Path(__file__).resolve().parent.parent / "planning" / "policies"


def _evaluations(run: Path) -> list[dict]:
    with open(run / "eval.csv", newline="", encoding="utf-8") as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def _minutes_to_target(run: Path, rows: list[dict], idm_speed: float, start_s: float) -> str:
    """Minutes from the run's start to the first checkpoint whose validation beat idm with 0 collisions."""
    for row in rows:
        if row["collision_rate"] == 0.0 and row["mean_speed_mps"] > idm_speed:
            ckpt = run / "checkpoints" / f"policy_{int(row['timesteps'])}_steps.zip"
            if ckpt.exists():
                minutes = (ckpt.stat().st_mtime - start_s) / 60.0
                return f"{minutes:.1f} minutes ({int(row['timesteps'])} steps) after the start"
            return f"{int(row['timesteps'])} steps (no checkpoint time stamp)"
    return "not reached in this run"


def _start_s(run: Path) -> float:
    """When learning started: TensorBoard names its event file after that moment (unix seconds)."""
    events = sorted((run / "tb").glob("*/events.out.tfevents.*"))
    if not events:
        raise ValueError(f"{run}/tb has no TensorBoard event file to date the start of training")
    return float(events[0].name.split(".")[3])


def _table(rows: list[dict]) -> str:
    steps = [str(int(r["timesteps"])) for r in rows]
    if len(rows) > 1 and rows[-1]["timesteps"] == rows[-2]["timesteps"]:  # the run's closing evaluation
        steps[-1] = "final"
    head = "| steps | " + " | ".join(steps) + " |"
    sep = "|---|" + "---|" * len(rows)
    coll = "| collisions | " + " | ".join(f"{100 * r['collision_rate']:.0f} %" for r in rows) + " |"
    speed = "| mean speed m/s | " + " | ".join(f"{r['mean_speed_mps']:.2f}" for r in rows) + " |"
    dist = "| distance m | " + " | ".join(f"{r['mean_distance_m']:.0f}" for r in rows) + " |"
    return "\n".join([head, sep, coll, speed, dist])


def write_card(run: Path, scenario: str, idm_json: Path, command: str, commit: str) -> Path:
    train = json.loads((run / "train.json").read_text())
    rows = _evaluations(run)
    idm = json.loads(idm_json.read_text())["aggregates"][0]
    best_i = max(range(len(rows)), key=lambda i: (-rows[i]["collision_rate"], rows[i]["mean_speed_mps"]))
    best = f"{int(rows[best_i]['timesteps'])} steps" + (" (the closing evaluation)" if best_i == len(rows) - 1 else "")
    start_s = _start_s(run)
    name = f"{scenario}_dqn"
    shutil.copy(run / "best_model.zip", POLICIES / f"{name}.zip")
    shutil.copy(run / "learning_curves.png", POLICIES / f"{name}_curves.png")
    speed_range = next((o.split("=", 1)[1] for o in train["overrides"] if "speed_range" in o), "[20, 30]")
    card = f"""# Policy card: {scenario} behaviour policy (`{name}.zip`)

- **What it is**: the DQN set-up of `highway_dqn.zip` (card beside it: network, 80-value observation,
  9 behaviours every 0.5 s), trained on `drivestack/{scenario.capitalize()}-v0` with the safety mask
  in the environment and the surrogate world model randomised per episode (spread 0.5). Where the ego's
  lane ends in a junction, a ring entry or a lane merge, whether to go or to yield is the rule
  planner's gap acceptance (`BehaviourPlanner._junction_plan`), capped at the policy's target speed:
  the policy chooses lane and speed, it cannot drive into a gap the rule planner refuses.
- **Reward**: `configs/rl/env.yaml` with the speed term's range set to {speed_range} m/s for this
  scenario (`--set env.reward.speed_range_mps=...`); progress is normalised by its upper end.
- **Command** (seed {train['seed']}, code at commit {commit}, 2 cores, other evaluation work sharing the machine):

  ```bash
  {command}
  python scripts/policy_card.py RUN_DIR --scenario {scenario} --idm-json IDM.json --command "..." --commit REV
  ```

  {int(train['timesteps'])} decisions in {train['wall_s'] / 60.0:.1f} minutes ({train['steps_per_s']:.1f} env
  steps/s, `train.json`).
- **Which checkpoint**: the best validation (fewest collisions, then fastest): {best}.
  Validation (4 episodes, seeds 900000-900003, randomised surrogate):

{_table(rows)}

  Curves: [`{name}_curves.png`]({name}_curves.png).
- **Time to target**: idm drives {idm['mean_speed_mps']:.2f} m/s on the same validation seeds (ground
  truth, {100 * idm['collision_rate']:.0f} % collisions); the first validation faster than that with
  0 collisions: {_minutes_to_target(run, rows, idm['mean_speed_mps'], start_s)}.
- **Evaluation**: `drivestack evaluate --suite rl_scenarios` (held-out seeds 125000-125019,
  perception world model, beside the rule planner); figures in the README.
"""
    out = POLICIES / f"{name}.md"
    out.write_text(card)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--idm-json", type=Path, required=True)
    ap.add_argument("--command", required=True, help="the training command, as run")
    ap.add_argument("--commit", required=True, help="the commit the training ran at")
    args = ap.parse_args()
    print(write_card(args.run, args.scenario, args.idm_json, args.command, args.commit))


if __name__ == "__main__":
    main()
