"""Where a run came from: git commit, configuration, seed and the hashes of the weights used."""
from __future__ import annotations

import datetime
import hashlib
import json
import subprocess
from pathlib import Path

from sim.config import to_dict
from sim.logs.schemas import FORMAT_VERSION

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED_WEIGHTS = {name: REPO_ROOT / "perception" / "weights" / f"{name}.pt" for name in ("lidar", "camera")}
"""The networks' default weights (``perception.*_detector.DEFAULT_WEIGHTS``) without importing torch."""


def git_commit() -> str:
    """HEAD of the checkout the code runs from, with ``+dirty`` for uncommitted changes; "unknown" outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=REPO_ROOT, capture_output=True, timeout=10)
        return head.stdout.strip() + ("+dirty" if dirty.returncode == 1 else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_info(detectors: tuple[str, ...], weights: dict[str, str] | None = None) -> dict[str, dict]:
    """{detector: {"file", "sha256"}} of the networks among ``detectors`` (the classical detector has none);
    ``weights`` overrides the shipped files by detector name."""
    out = {}
    for name in detectors:
        path = Path((weights or {}).get(name) or SHIPPED_WEIGHTS.get(name, ""))
        if name in SHIPPED_WEIGHTS:
            out[name] = {"file": _display(path), "sha256": file_sha256(path) if path.is_file() else "missing"}
    return out


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def run_metadata(setup, seed: int) -> dict[str, str]:
    """The ``drivestack.run`` metadata record of a recording; every value is a JSON document."""
    values = {
        "format_version": FORMAT_VERSION,
        "git_commit": git_commit(),
        "recorded_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "scenario": setup.scenario.name,
        "planner": setup.planner,
        "world_model": setup.world_model,
        "seed": seed,
        "dt_s": setup.scenario.dt_s,
        "config": to_dict(setup),
        "weights": weights_info(setup.perception.detectors) if setup.world_model == "perception" else {},
    }
    return {k: json.dumps(v, sort_keys=True) for k, v in values.items()}
