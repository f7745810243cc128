"""The ``drivestack`` command line: one parser, a subcommand group per module in ``sim.cli``."""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

OWN_PACKAGES = ("perception", "fusion", "planning", "control")
"""Top-level packages drivestack installs beside ``sim``; another project's would shadow ours."""


def foreign_package() -> str | None:
    """A one-line explanation if one of our top-level packages resolves outside this installation
    (e.g. an installed python-control's ``control``), else None. Checked before anything imports them."""
    root = Path(__file__).resolve().parents[2]
    for name in OWN_PACKAGES:
        spec = importlib.util.find_spec(name)
        where = Path(spec.origin).resolve().parents[1] if spec is not None and spec.origin else None
        if where != root:
            found = spec.origin if spec is not None and spec.origin else "nowhere"
            return (f"the package '{name}' found at {found} is not drivestack's (expected under {root}); another "
                    f"project installs a top-level '{name}': uninstall it or use a separate virtual environment")
    return None


CLASH = foreign_package()
if CLASH is None:  # with a foreign package in the way, importing the commands would fail deep inside
    from sim.backends.interrupt import keep_ctrl_c
    from sim.cli import bench, data, logs, simulate, tracking, train

    GROUPS = (simulate, bench, data, train, tracking, logs)
    """Command groups, each with ``add_arguments(subparsers)``; every subcommand sets ``run``."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"drivestack: error: {message}\n")
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="drivestack", description="Closed-loop autonomous-driving stack on highway-env: "
                     "sensors, perception, fusion, planning, RL and control. `drivestack COMMAND --help` for each.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for group in GROUPS:
        group.add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    if CLASH is not None:
        sys.stderr.write(f"drivestack: error: {CLASH}\n")
        return 2
    if os.environ.get("SDL_VIDEODRIVER", "dummy") == "dummy":
        os.environ["SDL_VIDEODRIVER"] = "offscreen"  # highway-env renders black frames under 'dummy'
    args = build_parser().parse_args(argv)
    with keep_ctrl_c():
        code = _run(args)
    if code == 130:
        _leave_ray_after_interrupt()
    return code


def _leave_ray_after_interrupt() -> None:
    """After Ctrl-C, with Ray running: everything is written and said, so end the process here. Ray's
    own shutdown at exit can abort on a task reply that races the interrupt ("Tried to complete task
    that was not pending": exit 1 and a C++ stack trace instead of 130). Ray's reaper process ends the
    embedded cluster when this driver is gone."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)


def _run(args) -> int:
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        sys.stderr.write(f"drivestack: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("drivestack: interrupted\n")
        return 130
    except BrokenPipeError:  # the output went into a pipe that closed early (e.g. `| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


__all__ = ["build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
