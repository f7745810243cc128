"""Log regression over a corpus (``drivestack replay DIR --compare``): every log replayed as one task
on an execution backend, one row per log, one table. The openpilot "process replay" question: did
my change alter any output on the recorded drives?"""
from __future__ import annotations

import glob
from dataclasses import dataclass, replace
from pathlib import Path

from sim.backends import Backend, run_parallel
from sim.logs.compare import OUTPUTS
from sim.logs.replay_config import ReplayOptions


def find_logs(spec: str) -> list[Path]:
    """The MCAP logs of a directory (searched recursively) or a glob pattern, sorted."""
    path = Path(spec)
    found = sorted(path.rglob("*.mcap")) if path.is_dir() else sorted(Path(p) for p in glob.glob(spec, recursive=True))
    found = [p for p in found if p.is_file()]
    if not found:
        raise ValueError(f"no .mcap logs in {spec}" if path.is_dir() else f"no log matches {spec}")
    return found


def is_corpus(spec: str) -> bool:
    """A directory or a glob pattern (several logs), not one log file."""
    return Path(spec).is_dir() or glob.has_magic(spec)


@dataclass(frozen=True)
class _ReplayTask:
    """Replay one log in a worker; a log that cannot be replayed is a row with its error, not a failed run."""

    options: ReplayOptions

    def __call__(self, path: Path) -> dict:
        from sim.logs.replay import replay_log

        try:
            r = replay_log(path, self.options)
        except (ValueError, FileNotFoundError, PermissionError) as exc:
            return {"log": str(path), "error": str(exc)}
        return {"log": str(path), "ticks": r.ticks, "comparison": r.comparison, "scores": r.scores,
                "output_sha256": r.output_sha256, "issues": list(r.issues), "error": None}


def replay_corpus(logs: list[Path], options: ReplayOptions, backend: Backend) -> list[dict]:
    """One row per log, in the logs' order (``Interrupted`` after Ctrl-C carries the finished rows)."""
    return run_parallel(_ReplayTask(replace(options, progress=False, out=None)), logs, backend, "replay", unit="log")


def verdict(row: dict) -> str:
    if row["error"] is not None:
        return "ERROR"
    c = row["comparison"]
    return "-" if c is None else ("PASS" if c["passed"] else "FAIL")


def corpus_passed(rows: list[dict]) -> bool:
    return all(verdict(r) in ("PASS", "-") for r in rows)


def format_corpus(rows: list[dict], root: str) -> str:
    width = max([len(_name(r, root)) for r in rows] + [3]) + 2
    lines = [f"{'log':<{width}}{'ticks':>6}{'diverged':>10}  {'max difference (' + ', '.join(OUTPUTS) + ')':<44}"
             f"{'result':>7}  output sha256"]
    for r in rows:
        c = r.get("comparison")
        if r["error"] is not None:
            lines.append(f"{_name(r, root):<{width}}{'-':>6}{'-':>10}  {'error: ' + r['error']}")
            continue
        worst = ", ".join(f"{c['max_difference'][k]:.3g}" for k in OUTPUTS) if c else "-"
        lines.append(f"{_name(r, root):<{width}}{r['ticks']:>6}{c['diverged_ticks'] if c else '-':>10}  {worst:<44}"
                     f"{verdict(r):>7}  {r['output_sha256'][:12]}")
    counts = {v: sum(verdict(r) == v for r in rows) for v in ("PASS", "FAIL", "ERROR")}
    lines.append(f"{len(rows)} logs: {counts['PASS']} passed, {counts['FAIL']} failed, {counts['ERROR']} could not "
                 "be replayed")
    return "\n".join(lines)


def _name(row: dict, root: str) -> str:
    path = Path(row["log"])
    base = Path(root)
    return str(path.relative_to(base)) if base.is_dir() and path.is_relative_to(base) else str(path)
