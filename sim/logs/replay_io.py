"""Replay's ends: the detectors it builds (with the user's weights) and the ``--out`` log it writes."""
from __future__ import annotations

import json
from pathlib import Path

from sim.logs import codec
from sim.logs.index import LogIndex
from sim.logs.messages import diagnostics_message, lane_markers, topic_schemas
from sim.logs.provenance import git_commit, weights_info
from sim.logs.replay_config import ReplayConfig, ReplayOptions, config_dict
from perception.runtime import NETWORKS
from sim.loop.world_sources import PerceptionConfig, load_detector
from sim.logs.types import LoggedTick
from sim.logs.writer import LogWriter



def build_detectors(names: tuple[str, ...], options: ReplayOptions, cfg: PerceptionConfig) -> list:
    """Detectors by registry name: the shipped networks (loaded once per process) unless
    ``options.weights`` names a file, on ``cfg``'s runtime and precision; torch's thread count pinned
    when ``options.threads`` is set (the ONNX Runtime sessions follow it)."""
    from perception.registry import make_detector

    if any(n in NETWORKS for n in names):
        import torch

        if options.threads is not None:
            torch.set_num_threads(options.threads)
    if "classical" in names:
        import open3d as o3d

        o3d.utility.random.seed(0)  # RANSAC draws random samples: seed them so replays repeat
    out = []
    for name in names:
        run = {"runtime": cfg.runtime, "precision": cfg.precision}  # the classical detector ignores them
        if name in options.weights:
            out.append(make_detector(name, weights=options.weights[name], device=options.device, **run))
        else:
            out.append(load_detector(name, options.device, **run))
    return out


def replay_weights(detectors: tuple[str, ...], options: ReplayOptions) -> dict:
    return weights_info(detectors, dict(options.weights))


class OutLog:
    """The ``--out`` log: the recorded sensor data and ground truth with the replayed outputs, in
    the recording format (so it can itself be replayed or compared)."""

    def __init__(self, writer: LogWriter, cfg: ReplayConfig) -> None:
        self.writer, self.cfg, self._first = writer, cfg, True

    def write_tick(self, tick: LoggedTick, diagnostics=None) -> None:
        """The tick, with its replayed ``diagnostics`` (``DiagnosticStatus``es) when given."""
        extra = [lane_markers(tick.stamp, self.cfg.lane_map)] if self._first and self.cfg.lane_map is not None else []
        if diagnostics is not None:
            extra.append(diagnostics_message(tick.stamp, diagnostics))
        self._first = False
        self.writer.write_tick(tick, extra)

    def close(self) -> None:
        self.writer.close()


def open_out_log(path: Path, index: LogIndex, cfg: ReplayConfig, options: ReplayOptions, lanes: bytes | None
                 ) -> OutLog:
    if Path(path).resolve() == index.path.resolve():
        raise ValueError(f"--out {path} is the log being replayed; choose another file")
    run = index.run()
    recorded = run.get("config") if isinstance(run.get("config"), dict) else {}
    meta = {**run, "world_model": "perception", "config": {**recorded, **config_dict(cfg)},
            "weights": replay_weights(cfg.detectors, options), "replayed_from": str(index.path), "replay_git_commit": git_commit()}
    meta = {k: json.dumps(v, sort_keys=True) for k, v in meta.items()}
    topics = topic_schemas(index.sensors("camera"), index.sensors("lidar"), diagnostics=True)
    if lanes is None and cfg.lane_map is not None:
        lanes = codec.dumps(codec.lane_map_json(cfg.lane_map, cfg.route_nodes))
    return OutLog(LogWriter(path, meta, topics, lanes), cfg)
