"""What every command shares: parent parsers for the common options, positive-number checks, JSON
output and the metrics report."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from sim.backends.spec import BACKENDS, Backend
from sim.evaluation.metrics import aggregate, format_score_terms, format_table, to_json, write_json


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults in every option's help (unless none, or the help already names it); the description
    and example keep their line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default is None or action.default is False or action.default == [] or "default" in text:
            return text
        return super()._get_help_string(action)


MAX_SEED = 2**31 - 1
"""Seeds are non-negative and fit numpy's and gymnasium's seeding."""


def output_file(*suffixes: str) -> Callable[[str], Path]:
    """argparse type: a file path to write, checked before any work starts: one of ``suffixes``, not a
    directory, and under a directory that exists or can be created (no file in the way)."""
    def check(text: str) -> Path:
        path = Path(text)
        if path.suffix.lower() not in suffixes:
            raise argparse.ArgumentTypeError(f"'{text}' must end in {' or '.join(suffixes)}")
        if path.is_dir():
            raise argparse.ArgumentTypeError(f"'{text}' is a directory, not a file")
        _check_writable(path.parent, f"cannot write '{text}'")
        return path
    return check


def output_dir(text: str) -> Path:
    """argparse type: a directory to write into (existing or creatable; no file in the way)."""
    path = Path(text)
    _check_writable(path, f"cannot write into '{text}'")
    return path


def _check_writable(directory: Path, what: str) -> None:
    """The nearest existing ancestor of ``directory`` (itself included) must be a writable directory."""
    existing = next((p for p in [directory, *directory.parents] if p.exists()), Path("."))
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{what}: '{existing}' is a file, not a directory")
    if not os.access(existing, os.W_OK):
        raise argparse.ArgumentTypeError(f"{what}: '{existing}' is not writable")


def seed_value(text: str) -> int:
    """argparse type: a seed in [0, 2^31 - 1]."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer seed") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"seed {value} is out of range [0, {MAX_SEED}]")
    return value


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is out of range [0, 65535]")
    return value


def json_parent(what: str = "the results") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--json", type=output_file(".json"), default=None, metavar="FILE.json",
                   help=f"also write {what} as JSON")
    return p


def seed_parent(default: int = 0, what: str = "first episode seed; episodes use SEED, SEED+1, ...") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--seed", type=seed_value, default=default, help=what)
    return p


def seed_range(text: str) -> tuple[int, int]:
    """``A:B`` -> (A, B) with A < B (seeds A..B-1)."""
    try:
        a, b = (int(v) for v in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a seed range A:B (e.g. 1000:1020)") from None
    if b <= a:
        raise argparse.ArgumentTypeError(f"seed range '{text}' is empty: B must exceed A")
    if a < 0 or b - 1 > MAX_SEED:
        raise argparse.ArgumentTypeError(f"seed range '{text}' is out of range [0, {MAX_SEED}]")
    return a, b

def set_parent(sections: str = "scenario, planner, controller, perception, sensors") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help=f"override a config key (sections: {sections}), e.g. planner.horizon_s=6; repeatable")
    return p


def workers_parent() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--workers", type=int, default=None,
                   help="parallel worker processes (default: the CPU count, up to 8); with an embedded Ray, its CPUs")
    p.add_argument("--backend", default="local", choices=BACKENDS,
                   help="where the tasks run: this machine's process pool, or Ray (embedded, or --address)")
    p.add_argument("--address", default=None, metavar="HOST:PORT",
                   help="--backend ray: join the cluster started with `ray start --head` (default: $RAY_ADDRESS, "
                        "else an embedded local Ray)")
    return p


def backend_of(args: argparse.Namespace) -> Backend:
    """The ``Backend`` of --backend, --workers and --address (checked: clear errors)."""
    return Backend(args.backend, args.workers, args.address)


def add_runtime_options(parser: argparse.ArgumentParser) -> None:
    """``--runtime`` and ``--precision`` of the detector networks (defaults: the closed loop's,
    ``perception.runtime`` and ``perception.precision``)."""
    parser.add_argument("--runtime", default=None, choices=["torch", "onnxruntime"],
                        help="inference runtime (default: onnxruntime)")
    parser.add_argument("--precision", default=None, choices=["auto", "fp32", "int8"],
                        help="auto (default): int8 where the weights have their int8 model beside them, else fp32")


def runtime_options(args: argparse.Namespace) -> dict:
    """Detector options from the flags, the unset ones at ``PerceptionConfig``'s defaults; only the
    networks take them (the classical detector refuses them)."""
    from perception.runtime import NETWORKS
    from sim.loop.world_sources import PerceptionConfig

    given = {k: v for k, v in (("runtime", args.runtime), ("precision", args.precision),
                               ("weights", getattr(args, "weights", None))) if v is not None}
    if args.model not in NETWORKS:
        if given:
            raise ValueError(f"--{'/--'.join(given)} apply to the networks ({', '.join(NETWORKS)}), not '{args.model}'")
        return {}
    return {"runtime": PerceptionConfig.runtime, "precision": PerceptionConfig.precision, **given}


def interrupted(what: str, json_path: Path | None = None) -> int:
    """After Ctrl-C: one line saying what was kept (and where), and exit code 130."""
    sys.stderr.write(f"drivestack: interrupted: {what}{f', written to {json_path}' if json_path else ''}\n")
    return 130


def add_command(sub, name: str, help_text: str, example: str, parents=()) -> argparse.ArgumentParser:
    """A subcommand whose help shows its defaults and one example line."""
    return sub.add_parser(name, help=help_text, description=f"{help_text}\n\nexample:\n  {example}",
                          parents=list(parents), formatter_class=HelpFormatter)


def choice(registry, paths: bool = False) -> Callable[[str], str]:
    """An argparse ``type`` that accepts the registry's names (and YAML paths with ``paths``) and
    reports anything else with the registry's one-line "unknown X; valid: ..." message."""
    def check(value: str) -> str:
        if paths and (value.endswith(".yaml") or os.path.sep in value):
            return value
        try:
            return registry.check(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    check.__name__ = registry.kind
    return check


def valid(registry) -> str:
    return "{" + ",".join(registry.names()) + "}"


def positive(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")


def names(text: str) -> list[str]:
    """A comma-separated list of names, blanks dropped."""
    return [s.strip() for s in text.split(",") if s.strip()]


def print_result(text: str, path: Path | None, payload: dict) -> int:
    """Print ``text``; write ``payload`` to ``path`` when one was given."""
    print(text)
    if path is not None:
        write_json(path, payload)
        print(f"json: {path}")
    return 0


def report(episodes: list, json_path: Path | None, meta: dict, extra: dict | None = None) -> int:
    """The metrics table; ``extra`` adds top-level keys to the JSON."""
    rows = aggregate(episodes)
    text = f"{format_table(rows)}\n\n{format_score_terms(episodes)}" if episodes else format_table(rows)
    return print_result(text, json_path, {**to_json(episodes, rows), "meta": meta, **(extra or {})})


def report_episodes(run: Callable[[], list], json_path: Path | None, meta: dict,
                    extra: Callable[[], dict] | None = None) -> int:
    """``report`` the episodes ``run()`` returns (``extra()``, called after it, adds JSON keys); on
    Ctrl-C, report the ones that finished (JSON marked ``meta.partial``) and return 130."""
    from sim.backends.local import Interrupted

    try:
        episodes = run()
    except Interrupted as stop:
        if stop.results:
            report(stop.results, json_path, {**meta, "partial": True}, extra() if extra else None)
        return interrupted(f"{len(stop.results)} episodes finished", json_path if stop.results else None)
    return report(episodes, json_path, meta, extra() if extra else None)


def diagnostics_verdict(summary, fail_on: str, code: int) -> int:
    """Print the diagnostics table; exit 1 when it reached the ``--fail-on`` level (else ``code``)."""
    from sim.diagnostics import format_summary

    if summary.ticks:
        print(format_summary(summary))
    if code == 0 and summary.fails(fail_on):
        sys.stderr.write(f"drivestack: diagnostics reached {summary.worst.name} (--fail-on {fail_on})\n")
        return 1
    return code
