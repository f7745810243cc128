"""The transfer comparison: two policies (trained on different world models) evaluated on the same
seeds with the same world model, paired per seed.

    python scripts/rl_gap.py OUT.txt NAME_A=FILE_A NAME_B=FILE_B
"""
import json
import sys

import numpy as np

KEYS = ("collided", "mean_speed_mps", "progress_m", "ttc_score", "score")


def main(out: str, a: str, b: str) -> None:
    (name_a, file_a), (name_b, file_b) = a.split("=", 1), b.split("=", 1)
    ea = {e["seed"]: e for e in json.load(open(file_a))["episodes"]}
    eb = {e["seed"]: e for e in json.load(open(file_b))["episodes"]}
    seeds = sorted(set(ea) & set(eb))
    lines = [f"highway, seeds {seeds[0]}-{seeds[-1]} ({len(seeds)} paired episodes), world model of the episodes: "
             f"{ea[seeds[0]]['world_model']}",
             f"{'metric':<16}{name_a:>22}{name_b:>22}{'B - A (s.e.)':>20}{'B > A':>8}"]
    for k in KEYS:
        x = np.array([float(ea[s][k]) for s in seeds])
        y = np.array([float(eb[s][k]) for s in seeds])
        d = y - x
        lines.append(f"{k:<16}{x.mean():>22.3f}{y.mean():>22.3f}{d.mean():>+12.3f} ({d.std(ddof=1) / np.sqrt(len(d)):.3f})"
                     f"{int((y > x).sum()):>8d}")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    open(out, "w").write(text)


if __name__ == "__main__":
    main(*sys.argv[1:])
