"""``drivestack datagen``: labelled (or, with ``labelled=False``, unlabelled) sensor frames from a mix of scenarios, densities and noise.

Each episode (one seed) drives the rule planner on ground truth and saves a frame every
``stride_ticks``. Episodes, not frames, are assigned to train/val/test from their seed, so no
episode ever spans two splits.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from perception.dataset import MANIFEST, SPLITS, frame_arrays
from sim.config import to_dict
from sim.backends import Backend, Interrupted, run_parallel
from sim.loop.setup import build_setup, open_env
from sim.loop.tick import Episode
from sim.sensors.rig import NoiseConfig, RigConfig

DENSITY_SCENARIOS = {"highway", "exit"}
NOISY = NoiseConfig(lidar_range_std_m=0.05, lidar_dropout=0.1, camera_noise_std=4.0, camera_blur_px=0.7)


@dataclass(frozen=True)
class DatagenConfig:
    scenarios: tuple[str, ...]
    frames: int
    seed: int
    frames_per_episode: int = 20
    stride_ticks: int = 5
    warmup_ticks: int = 5
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    density_range: tuple[float, float] = (0.7, 1.6)
    noise_probability: float = 0.5
    labelled: bool = True
    """False: store sensor data only (``frame_arrays(labelled=False)``), no box count in the manifest."""


@dataclass(frozen=True)
class EpisodePlan:
    index: int
    seed: int
    scenario: str
    split: str
    density: float | None
    noisy: bool
    n_frames: int


def split_of(seed: int, fractions: tuple[float, float, float]) -> str:
    """Deterministic split of an episode seed (a hash of the seed, not its position)."""
    u = np.random.default_rng([seed, 20261129]).random()
    return SPLITS[0] if u < fractions[0] else SPLITS[1] if u < fractions[0] + fractions[1] else SPLITS[2]


def plan_episodes(cfg: DatagenConfig) -> list[EpisodePlan]:
    n = math.ceil(cfg.frames / cfg.frames_per_episode)
    rng = np.random.default_rng(cfg.seed)
    episodes = []
    for i in range(n):
        seed, scenario = cfg.seed + i, cfg.scenarios[i % len(cfg.scenarios)]
        density = float(rng.uniform(*cfg.density_range)) if scenario in DENSITY_SCENARIOS else None
        noisy = bool(rng.random() < cfg.noise_probability)
        count = min(cfg.frames_per_episode, cfg.frames - i * cfg.frames_per_episode)
        episodes.append(EpisodePlan(i, seed, scenario, split_of(seed, cfg.split_fractions), density, noisy, count))
    return episodes


class _EpisodeWriter:
    """Callable for the worker pool: generates one episode's frames into ``out``."""

    def __init__(self, cfg: DatagenConfig, rig: RigConfig, out: Path) -> None:
        self.cfg, self.rig, self.out = cfg, rig, out

    def __call__(self, ep: EpisodePlan) -> list[dict]:
        overrides = [f"scenario.env.vehicles_density={ep.density}"] if ep.density is not None else []
        setup = build_setup(ep.scenario, "rule", "ground_truth", overrides)
        setup = replace(setup, rig=replace(self.rig, noise=NOISY if ep.noisy else NoiseConfig()))
        env = open_env(setup)
        try:
            return self._drive(Episode(env, setup, ep.seed), ep)
        finally:
            env.close()

    def _drive(self, episode: Episode, ep: EpisodePlan) -> list[dict]:
        """Drive the rule planner on ground truth; render the rig on the sampled ticks only."""
        rows = []
        while True:
            k = episode.index - self.cfg.warmup_ticks
            record = episode.tick(sense=k >= 0 and k % self.cfg.stride_ticks == 0)
            if record.frame is not None:
                rows.append(self._save(record.frame, ep, record.index))
                if len(rows) >= ep.n_frames:
                    break
            if record.terminated or record.truncated:
                break
        return rows

    def _save(self, frame, ep: EpisodePlan, tick: int) -> dict:
        rel = Path("frames") / ep.split / f"{ep.scenario}_{ep.seed:06d}_{tick:04d}.npz"
        (self.out / rel).parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(self.out / rel, **frame_arrays(frame, self.cfg.labelled))
        row = {"path": str(rel), "split": ep.split, "scenario": ep.scenario, "seed": ep.seed, "tick": tick,
               "stamp": frame.stamp, "noisy": ep.noisy, "density": ep.density}
        return row | {"n_boxes": len(frame.labels)} if self.cfg.labelled else row


def generate(cfg: DatagenConfig, rig: RigConfig, out: Path, backend: Backend | int = 1) -> dict:
    """Write all frames and ``manifest.json`` into ``out``; returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    episodes = plan_episodes(cfg)
    try:
        per_episode = run_parallel(_EpisodeWriter(cfg, rig, out), episodes, backend, "datagen", unit="ep")
    except Interrupted as stop:  # keep what finished: a manifest of the whole episodes, marked partial
        if stop.results:
            _write_manifest(out, cfg, rig, episodes, stop.results, partial=True)
        raise
    return _write_manifest(out, cfg, rig, episodes, per_episode)


def _write_manifest(out: Path, cfg: DatagenConfig, rig: RigConfig, episodes: list[EpisodePlan],
                    per_episode: list[list[dict]], partial: bool = False) -> dict:
    """``manifest.json`` of the finished episodes' frames (``partial``: after Ctrl-C; frames of an
    episode cut short are left out, so every split stays whole episodes)."""
    frames = [row for rows in per_episode for row in rows]
    seeds = {f["seed"] for f in frames}
    counts = {s: sum(1 for f in frames if f["split"] == s) for s in SPLITS}
    manifest = {"config": to_dict(cfg), "rig": to_dict(rig), "labelled": cfg.labelled, "counts": counts, "frames": frames,
                "episodes": [to_dict(e) for e in episodes if not partial or e.seed in seeds], "partial": partial}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest
