"""Learning curves people can look at: validation speed and collision rate against training steps,
from a training run's ``eval.csv`` (``DrivingEvalCallback``), as a PNG beside the policy."""
from __future__ import annotations

import csv
from pathlib import Path


def plot_learning_curves(eval_csv: Path | str, png: Path | str, title: str = "") -> Path:
    """Two panels sharing the step axis: mean validation speed [m/s] and collision rate [%]."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    with open(eval_csv, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"{eval_csv} has no evaluations to plot")
    steps = [int(r["timesteps"]) for r in rows]
    fig, (speed, crash) = plt.subplots(2, 1, sharex=True, figsize=(6.0, 4.5))
    speed.plot(steps, [float(r["mean_speed_mps"]) for r in rows], marker="o")
    speed.set_ylabel("validation speed [m/s]")
    crashes = [100.0 * float(r["collision_rate"]) for r in rows]
    crash.plot(steps, crashes, marker="o", color="tab:red")
    crash.set_ylabel("collisions [%]")
    crash.set_xlabel("training steps (decisions)")
    crash.set_ylim(-2.0, max(10.0, 1.1 * max(crashes)))
    for ax in (speed, crash):
        ax.grid(alpha=0.3)
    fig.suptitle(title or Path(eval_csv).parent.name)
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return Path(png)
