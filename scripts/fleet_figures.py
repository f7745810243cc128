"""Issue 18's figures from the runs' own outputs (no number typed in): the pseudo-label camera against
the ground-truth camera on the test split, its closed loop, and federated against pooled training.

    python scripts/fleet_figures.py --runs /work/tune --out docs/results

reads RUNS/fleet_eval_cam_{gt,pseudo}.json, RUNS/fleet_loop_pseudo.json and the federated runs'
{metrics.csv,federated.json} with their test evaluations (``--fed NAME RUN EVAL_JSON``, repeated; by
default RUNS/fleet_lidar_{fedavg,fedprox,pooled} and RUNS/fleet_eval_lidar_*.json), whichever exist,
and writes OUT/fleet.json, OUT/fleet.txt and OUT/fleet_federated_ap.png.
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

THRESHOLDS = ("0.5", "1.0", "2.0", "4.0")


def _json(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def _ap(result: dict | None) -> dict | None:
    return {t: result["ap"][t] for t in THRESHOLDS} if result else None


def camera(runs: Path) -> dict:
    gt, pseudo = _ap(_json(runs / "fleet_eval_cam_gt.json")), _ap(_json(runs / "fleet_eval_cam_pseudo.json"))
    out = {"gt_trained": gt, "pseudo_trained": pseudo}
    if gt and pseudo:
        out["ratio_ap_2m"] = pseudo["2.0"] / gt["2.0"]
        out["target_met"] = out["ratio_ap_2m"] >= 0.90
    loop = _json(runs / "fleet_loop_pseudo.json")
    if loop:
        agg = loop["aggregates"][0]
        out["closed_loop"] = {k: agg.get(k) for k in ("n_episodes", "collision_rate", "at_fault_collision_rate",
                                                      "completion_rate", "mean_speed_mps")}
        out["closed_loop"]["collisions"] = sum(bool(e.get("collided")) for e in loop["episodes"])
    return out


DEFAULT_RUNS = tuple((f"{s}-3", f"fleet_lidar_{s}", f"fleet_eval_lidar_{s}.json") for s in ("fedavg", "fedprox", "pooled"))
"""Last session's runs (3 total epochs): NAME, run folder and test evaluation under --runs."""


def _epochs(name: str) -> str:
    """TOTAL_EPOCHS of a run NAME ``STRATEGY-TOTAL_EPOCHS[/variant]``."""
    return name.split("/")[0].rsplit("-", 1)[1]


def federated(runs: Path, named: tuple[tuple[str, str, str], ...] = DEFAULT_RUNS) -> dict:
    """Each run NAME (``STRATEGY-EPOCHS[/variant]``): validation AP by round/epoch, bytes, and its test AP;
    the ratio of a federated run's test AP@2m to the pooled run of the same total epochs and variant
    (``fedavg-8/s2`` to ``pooled-8/s2``)."""
    out: dict = {}
    for name, folder, evaluation in named:
        run = runs / folder
        if not (run / "metrics.csv").exists():
            continue
        with open(run / "metrics.csv") as fh:
            rows = list(csv.DictReader(fh))
        summary = _json(run / "federated.json") or {}
        epochs = float(_epochs(name))
        out[name] = {"val_ap_2m": [float(r["val_ap_2m"]) for r in rows],
                     "epochs_seen": [epochs * (i + 1) / len(rows) for i in range(len(rows))],
                     "bytes_per_round": [int(r["bytes_down"]) + int(r["bytes_up"]) for r in rows]
                     if "bytes_up" in rows[0] else None, "wall_s": summary.get("wall_s"),
                     "frames": summary.get("frames"), "test": _ap(_json(runs / evaluation)), "folder": folder}
    for name, run in out.items():
        pooled = out.get("pooled-" + name.split("-", 1)[1], {}).get("test")  # same total epochs and /variant
        if not name.startswith("pooled") and pooled and run.get("test"):
            run["ratio_ap_2m"] = run["test"]["2.0"] / pooled["2.0"]
            run["target_met"] = run["ratio_ap_2m"] >= 0.95
    return out


def plot(fed: dict, path: Path, plot_only: str | None = None) -> None:
    """Validation AP@2m against epochs of data seen; with ``plot_only``, only runs of that /variant."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = {"fedavg": "FedAvg", "fedprox": "FedProx", "pooled": "centralised"}
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, run in fed.items():
        if plot_only and name.split("/", 1)[-1] != plot_only:
            continue
        strategy, epochs = name.split("/")[0].rsplit("-", 1)
        unit = "epochs" if strategy == "pooled" else f"rounds of {float(epochs) / len(run['val_ap_2m']):g} epoch"
        ax.plot(run["epochs_seen"], run["val_ap_2m"], marker="o", linestyle="-" if epochs != "3" else ":",
                label=f"{labels.get(strategy, strategy)}, {len(run['val_ap_2m'])} {unit}")
    ax.set_xlabel("epochs of training data seen (all clients together)")
    ax.set_ylabel("validation AP@2m (lidar)")
    ax.set_title("Federated lidar, 5 non-IID clients, vs centralised at equal total epochs"
                 + (f" ({plot_only})" if plot_only else ""), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def text(fig: dict) -> str:
    fmt = lambda ap: " / ".join(f"{ap[t]:.3f}" for t in THRESHOLDS) if ap else "missing"  # noqa: E731
    cam, fed = fig["camera"], fig["federated"]
    lines = ["AP@0.5/1/2/4 m within 50 m on the test split",
             f"camera, ground-truth labels: {fmt(cam['gt_trained'])}",
             f"camera, lidar pseudo-labels: {fmt(cam['pseudo_trained'])}"]
    if "ratio_ap_2m" in cam:
        lines.append(f"pseudo / ground truth at AP@2m: {cam['ratio_ap_2m']:.3f} (target >= 0.90: "
                     f"{'met' if cam['target_met'] else 'not met'})")
    if "closed_loop" in cam:
        lines.append(f"closed loop, pseudo-label camera: {cam['closed_loop']}")
    for s, run in fed.items():
        mb = f", {run['bytes_per_round'][0] / 1e6:.2f} MB per round" if run.get("bytes_per_round") else ""
        ratio = f", ratio to pooled {run['ratio_ap_2m']:.3f}" if "ratio_ap_2m" in run else ""
        lines.append(f"lidar {s} ({run['folder']}): val AP@2m {[round(a, 3) for a in run['val_ap_2m']]}; test {fmt(run['test'])}{ratio}{mb}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    parser.add_argument("--fed", nargs=3, action="append", metavar=("NAME", "RUN", "EVAL_JSON"),
                        help="a federated or pooled run (NAME is STRATEGY-TOTAL_EPOCHS[/variant], e.g. fedavg-8; RUN and "
                             "EVAL_JSON relative to --runs); default: the 3-epoch runs fleet_lidar_*")
    parser.add_argument("--plot-variant", default=None, help="plot only the runs NAME/VARIANT of this variant")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    fig = {"camera": camera(args.runs), "federated": federated(args.runs, tuple(map(tuple, args.fed)) if args.fed else DEFAULT_RUNS)}
    (args.out / "fleet.json").write_text(json.dumps(fig, indent=1))
    (args.out / "fleet.txt").write_text(text(fig))
    if fig["federated"]:
        plot(fig["federated"], args.out / "fleet_federated_ap.png", args.plot_variant)
    print(text(fig), end="")


if __name__ == "__main__":
    main()
