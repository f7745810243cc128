"""Evaluation suites from ``configs/evaluate/*.yaml``: scenarios x planners x world models x seeds."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from perception.lookup import Registry
from sim.config import CONFIG_DIR, from_dict, load_yaml

SUITE_DIR = CONFIG_DIR / "evaluate"


@dataclass(frozen=True)
class SuiteConfig:
    """``scenarios`` maps scenario name to its number of seeds (episodes)."""

    scenarios: Mapping[str, int] = field(default_factory=dict)
    planners: tuple[str, ...] = ("rule", "idm")
    world_models: tuple[str, ...] = ("ground_truth",)
    seed_start: int = 0


SUITES: Registry[Path] = Registry("suite", lambda: {p.stem: p for p in SUITE_DIR.glob("*.yaml")})
"""Suite YAML files by name (configs/evaluate)."""


def suite_names() -> list[str]:
    return SUITES.names()


def load_suite(name_or_path: str) -> SuiteConfig:
    path = Path(name_or_path) if Path(name_or_path).suffix else SUITES[name_or_path]
    cfg = from_dict(SuiteConfig, load_yaml(path), "suite.")
    for scen, n in cfg.scenarios.items():
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"suite.scenarios.{scen} must be a positive number of episodes, got {n!r}")
    return cfg
