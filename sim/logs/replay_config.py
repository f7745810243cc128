"""What a replay runs with: the recorded configuration, the user's overrides and weights, and the
detectors the log has sensor data for. Every user mistake is a ValueError."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from control.controller import ControllerConfig
from fusion.types import LaneMap
from perception.registry import DETECTORS, VISIBILITY
from planning.planner import PLANNERS
from planning.rule_planner import RulePlannerConfig
from sim.config import apply_overrides, from_dict, to_dict
from sim.logs import codec
from sim.logs import schemas as S
from sim.logs.index import LogIndex
from sim.loop.world_sources import PerceptionConfig
from sim.loop.setup import load_controller_config, load_perception_config, load_planner_config, split_overrides

REPLAY_SECTIONS = ("perception", "planner", "controller")


@dataclass(frozen=True)
class ReplayOptions:
    """What the user asked for. ``weights`` maps a detector name to a weights file; ``overrides`` are
    ``section.key=value`` for the perception, planner and controller sections; ``threads`` pins
    torch's CPU threads (None: torch's default, as ``simulate`` uses); ``plan_horizon_s`` [s] is how
    far ahead the planner's divergence from the recorded plan is measured."""

    overrides: tuple[str, ...] = ()
    weights: Mapping[str, str] = field(default_factory=dict)
    device: str = "cpu"
    threads: int | None = None
    plan_horizon_s: float = 3.0
    compare: bool = False
    tolerance: float = 1e-3
    out: Path | None = None
    progress: bool = True
    policy_file: str | None = None
    """Policy of a log driven by ``--planner rl`` (None: the recorded file)."""
    batch_ticks: int = 16
    """Frames per detector call: the detectors run ahead of the tracker on this many ticks (1: tick
    by tick, as the closed loop does)."""


@dataclass(frozen=True)
class ReplayConfig:
    """Resolved settings. ``detectors`` are those replayed (the configured ones the log has sensor
    data for); ``notes`` say what was changed or left out and why; ``dt_s`` is the log's tick [s]."""

    perception: PerceptionConfig
    planner: str
    planner_config: RulePlannerConfig
    controller_config: ControllerConfig
    policy_file: str | None
    detectors: tuple[str, ...]
    lane_map: LaneMap | None
    route_nodes: tuple[str, ...]
    recorded_world_model: str
    dt_s: float
    notes: tuple[str, ...]


def resolve(index: LogIndex, lane_map_json: bytes | None, options: ReplayOptions) -> ReplayConfig:
    run, notes = index.run(), []
    version = str(run.get("format_version", S.FORMAT_VERSION))
    if version.split(".")[0] != S.FORMAT_VERSION.split(".")[0]:
        raise ValueError(f"{index.path} is log format {version}; this drivestack reads format {S.FORMAT_VERSION}")
    recorded = run.get("config") if isinstance(run.get("config"), dict) else {}
    if not recorded:
        notes.append("the log has no run configuration: replaying with the current default configuration")
    groups = _overrides(options.overrides)
    _fill_legacy(recorded)
    perception = _section(PerceptionConfig, recorded.get("perception"), groups["perception"], "perception.",
                          load_perception_config)
    controller = _section(ControllerConfig, recorded.get("controller_config"), groups["controller"], "controller.",
                          load_controller_config)
    planner_cfg = _section(RulePlannerConfig, recorded.get("planner_config"), groups["planner"], "planner.",
                           load_planner_config)
    planner_cfg = RulePlannerConfig(**{**planner_cfg.__dict__, "controller": controller})
    detectors = _detectors(index, perception, options, notes)
    planner = str(run.get("planner", "rule"))
    if planner not in PLANNERS:
        notes.append(f"the log was driven by '{planner}'; the rule planner is replayed open loop instead")
        planner = "rule"
    lane_map, route = _lane_map(lane_map_json, notes)
    policy = options.policy_file or recorded.get("policy_file")
    return ReplayConfig(perception, planner, planner_cfg, controller, policy, detectors, lane_map, route,
                        str(run.get("world_model", "unknown")), float(run.get("dt_s", 0.1)), tuple(notes))


def _fill_legacy(recorded: dict) -> None:
    """Settings a log recorded before they existed ran with their old behaviour, not today's default: the
    torch runtime, and neither the engagement ramp nor the creep limit in the controller."""
    for section, key, old in (("perception", "runtime", "torch"), ("controller_config", "engage_s", 0.0),
                              ("controller_config", "creep_speed_mps", 0.0)):
        if isinstance(recorded.get(section), dict) and key not in recorded[section]:
            recorded[section] = {**recorded[section], key: old}


def _overrides(overrides: tuple[str, ...]) -> dict[str, list[str]]:
    groups = split_overrides(list(overrides))
    bad = [s for s, items in groups.items() if items and s not in REPLAY_SECTIONS]
    if bad:
        raise ValueError(f"replay takes --set {', '.join(f'{s}.*' for s in REPLAY_SECTIONS)}; "
                         f"'{bad[0]}' is fixed by the recording")
    return groups


def _section(cls, recorded: dict | None, overrides: list[str], prefix: str, load_default):
    if not isinstance(recorded, dict):
        return load_default(overrides)
    return from_dict(cls, apply_overrides(recorded, overrides), prefix)


def _detectors(index: LogIndex, cfg: PerceptionConfig, options: ReplayOptions, notes: list[str]) -> tuple[str, ...]:
    DETECTORS.check_all(cfg.detectors)
    for name in options.weights:
        if name not in cfg.detectors:
            raise ValueError(f"--weights-{name} given but the {name} detector is not replayed "
                             f"(detectors: {', '.join(cfg.detectors)}; add it with --set perception.detectors=[...])")
    kept = []
    for name in cfg.detectors:
        sensor = VISIBILITY[name]
        if index.sensors(sensor):
            kept.append(name)
        else:
            notes.append(f"the log has no {sensor} data ({_topic_hint(sensor)}): replaying without the {name} detector")
    if not kept:
        raise ValueError(f"{index.path} has no sensor data for any replayed detector ({', '.join(cfg.detectors)})")
    return tuple(kept)


def _topic_hint(sensor: str) -> str:
    return "no /lidar/NAME/points messages" if sensor == "lidar" else "no /camera/NAME/image messages"


def _lane_map(data: bytes | None, notes: list[str]) -> tuple[LaneMap | None, tuple[str, ...]]:
    if data is None:
        notes.append(f"the log has no {S.LANE_MAP_ATTACHMENT}: tracks are not placed on lanes and the planner is not run")
        return None, ()
    try:
        return codec.lane_map_from(codec.loads(data))
    except (ValueError, KeyError, TypeError) as exc:
        notes.append(f"{S.LANE_MAP_ATTACHMENT} does not decode ({type(exc).__name__}): the planner is not run")
        return None, ()


def config_dict(cfg: ReplayConfig) -> dict:
    """The replay's settings in the layout of a recorded run config (for ``--out`` logs)."""
    return {"planner": cfg.planner, "world_model": "perception", "planner_config": to_dict(cfg.planner_config),
            "controller_config": to_dict(cfg.controller_config), "perception": to_dict(cfg.perception),
            "policy_file": cfg.policy_file}
