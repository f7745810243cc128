"""What every command shares: parent parsers for the common options, positive-number checks, JSON
output and the metrics report."""
from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from sim.evaluation.metrics import aggregate, format_table, to_json, write_json


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults in every option's help (unless none, or the help already names it); the description
    and example keep their line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default is None or action.default is False or action.default == [] or "default" in text:
            return text
        return super()._get_help_string(action)


def json_parent(what: str = "the results") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--json", type=Path, default=None, metavar="FILE.json", help=f"also write {what} as JSON")
    return p


def seed_parent(default: int = 0, what: str = "first episode seed; episodes use SEED, SEED+1, ...") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--seed", type=int, default=default, help=what)
    return p


def seed_range(text: str) -> tuple[int, int]:
    """``A:B`` -> (A, B) with A < B (seeds A..B-1)."""
    try:
        a, b = (int(v) for v in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a seed range A:B (e.g. 1000:1020)") from None
    if b <= a:
        raise argparse.ArgumentTypeError(f"seed range '{text}' is empty: B must exceed A")
    return a, b

def set_parent(sections: str = "scenario, planner, controller, perception, sensors") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help=f"override a config key (sections: {sections}), e.g. planner.horizon_s=6; repeatable")
    return p


def workers_parent() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--workers", type=int, default=None, help="parallel worker processes (default: the CPU count)")
    return p


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


def report(episodes: list, json_path: Path | None, meta: dict) -> int:
    rows = aggregate(episodes)
    return print_result(format_table(rows), json_path, {**to_json(episodes, rows), "meta": meta})
