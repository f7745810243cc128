"""`make mutation`: run mutmut over the core modules (configured in pyproject.toml) and print the
share of mutants killed per module, overall, and the survivors to read.

    python scripts/mutation.py            # run (resumes an interrupted run), then report
    python scripts/mutation.py --report   # report the last run only
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

MUTMUT = [sys.executable, "-m", "mutmut"]
LINE = re.compile(r"^\s*(?P<name>[\w.]+)__mutmut_\d+: (?P<status>[\w ]+)$")


def module_of(name: str) -> str:
    """'planning.ttc.x_min_time_to_collision' -> 'planning/ttc.py' (methods: 'xǁClassǁmethod')."""
    parts = name.split(".")
    mod = [p for p in parts if not p.startswith("x_") and "ǁ" not in p]
    return "/".join(mod) + ".py"


def report(out=sys.stdout) -> float:
    res = subprocess.run([*MUTMUT, "results", "--all", "true"], capture_output=True, text=True, check=True)
    counts: dict[str, Counter] = defaultdict(Counter)
    survivors = defaultdict(list)
    for line in res.stdout.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        module, status = module_of(m["name"]), m["status"].strip()
        counts[module][status] += 1
        if status == "survived":
            survivors[module].append(line.strip().split(":")[0])
    total = Counter()
    print(f"{'module':<32}{'mutants':>8}{'killed':>8}{'survived':>9}{'other':>7}{'score':>8}", file=out)
    for module in sorted(counts):
        c = counts[module]
        total.update(c)
        print(_row(module, c), file=out)
    print(_row("overall", total), file=out)
    for module in sorted(survivors):
        print(f"\nsurvivors in {module} (`mutmut show NAME` prints the change):", file=out)
        print("  " + "\n  ".join(survivors[module]), file=out)
    return _score(total)


def _score(c: Counter) -> float:
    decided = c["killed"] + c["survived"]
    return c["killed"] / decided if decided else float("nan")


def _row(name: str, c: Counter) -> str:
    n = sum(c.values())
    other = n - c["killed"] - c["survived"]
    return f"{name:<32}{n:>8}{c['killed']:>8}{c['survived']:>9}{other:>7}{100 * _score(c):>7.1f}%"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", action="store_true", help="only report the last run")
    args = parser.parse_args()
    if not args.report:
        subprocess.run([*MUTMUT, "run"], check=False, cwd=Path(__file__).resolve().parents[1])
    report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
