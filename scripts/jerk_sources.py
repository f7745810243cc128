"""Where the rule planner's remaining jerk comes from: for every episode whose smoothed longitudinal
jerk exceeds nuPlan's 4.13 m/s^3, attribute its worst moment (+-0.3 s) to a cause.

    python scripts/jerk_sources.py --scenarios highway,merge,roundabout,intersection --seeds 123400:123420

Causes, first match wins: an emergency profile was chosen (the current lane's hard-braking copy);
the controller used the vehicle's emergency jerk rate (|d accel| above its comfort rate between
ticks); the chosen proposal switched (another lane or speed); the first or last second of the
episode (the score's end-window fits); otherwise the simulator's vehicle dynamics (commands within
the limits, speed still jerky).
"""
from __future__ import annotations

import argparse
import os
from collections import Counter

import numpy as np

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")

from sim.cli.common import seed_range  # noqa: E402
from sim.evaluation.metrics import ScoreThresholds, comfort_signals  # noqa: E402
from sim.loop.setup import build_setup, open_env  # noqa: E402
from sim.loop.tick import Episode  # noqa: E402

_EMERGENCY_KIND = 100
_WINDOW_TICKS = 3


def _episode(scenario: str, seed: int) -> tuple[str | None, float]:
    setup = build_setup(scenario, "rule", "ground_truth")
    env = open_env(setup)
    try:
        ep = Episode(env, setup, seed)
        planner, speeds, cmds, choices = ep.driver.planner, [], [], []
        while True:
            rec = ep.tick()
            speeds.append(rec.ground_truth.ego.speed_mps)
            cmds.append(rec.command.accel_mps2)
            choices.append(planner._last_choice)
            if rec.crashed or rec.terminated or rec.truncated:
                break
    finally:
        env.close()
    dt = setup.scenario.dt_s
    jerk = comfort_signals(np.array(speeds), np.zeros(len(speeds)), dt, ScoreThresholds().smoothing_window_ticks)[1]
    if len(jerk) == 0:
        return None, 0.0
    k = int(np.argmax(np.abs(jerk)))
    worst = float(abs(jerk[k]))
    if worst <= ScoreThresholds().max_abs_lon_jerk_mps3:
        return None, worst
    lo, hi = max(0, k - _WINDOW_TICKS), min(len(cmds), k + _WINDOW_TICKS + 1)
    window = choices[lo:hi]
    steps = np.abs(np.diff(cmds[max(0, lo - 1):hi])) / dt
    if any(c is not None and c[1] >= _EMERGENCY_KIND for c in window):
        return "emergency profile", worst
    if len(steps) and steps.max() > setup.controller_config.comfort_jerk_mps3 + 1e-6:
        return "controller emergency rate", worst
    if len(set(window)) > 1:
        return "proposal switch", worst
    if k * dt < 1.0:
        return "episode start", worst
    if (len(jerk) - 1 - k) * dt < 1.0:
        return "episode end", worst
    return "vehicle dynamics", worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default="highway,merge,roundabout,intersection,exit")
    parser.add_argument("--seeds", type=seed_range, default=(123400, 123420), help="A:B (seeds A..B-1)")
    args = parser.parse_args()
    for scenario in args.scenarios.split(","):
        causes, n = Counter(), 0
        for seed in range(*args.seeds):
            cause, _ = _episode(scenario, seed)
            n += 1
            if cause:
                causes[cause] += 1
        over = sum(causes.values())
        detail = ", ".join(f"{c} {k}" for c, k in causes.most_common()) or "-"
        print(f"{scenario:12s} {over:2d}/{n} episodes over 4.13 m/s^3: {detail}", flush=True)


if __name__ == "__main__":
    main()
