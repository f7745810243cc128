"""Structure figures of a checkout: lines per package, files over 300 lines, and how many places
construct a WorldModel, step the env in a loop, construct a SensorSimulator, or write an
"unknown X ...; valid" message.  Usage: python scripts/structure.py [REPO_DIR]"""
from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

PACKAGES = ("perception", "fusion", "planning", "control", "sim")
PATTERNS = {
    "WorldModel( constructions": r"\bWorldModel\(",
    "closed-loop ticks (command -> action -> env.step)": r"command_to_action\(",
    "SensorSimulator( constructions": r"\bSensorSimulator\(",
    '"unknown ...; valid" messages': r"f\"unknown .*valid",
}


def code_files(root: Path) -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (root / pkg).rglob("*.py"))


def main(root: Path) -> None:
    files = code_files(root)
    lines = {p: len(p.read_text().splitlines()) for p in files}
    per_package = Counter()
    for p, n in lines.items():
        rel = p.relative_to(root).parts
        per_package["/".join(rel[:2]) if rel[0] == "sim" and len(rel) > 2 else rel[0]] += n
    print("lines per package:", ", ".join(f"{k} {v}" for k, v in sorted(per_package.items())))
    print(f"sim/ share: {sum(v for k, v in per_package.items() if k.startswith('sim')) / sum(lines.values()):.0%}"
          f" of {sum(lines.values())} lines")
    big = [f"{p.relative_to(root)} {n}" for p, n in lines.items() if n > 300]
    print(f"files over 300 lines: {len(big)} ({', '.join(big)})")
    for label, pattern in PATTERNS.items():
        hits = [f"{p.relative_to(root)}:{i}" for p in files for i, line in enumerate(p.read_text().splitlines(), 1)
                if re.search(pattern, line) and not line.lstrip().startswith(("#", '"""', "def "))]
        print(f"{label}: {len(hits)} ({', '.join(hits)})")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve())
