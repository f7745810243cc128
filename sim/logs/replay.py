"""Replay: the recorded sensor frames through today's detectors, a fresh tracker and the planner
(open loop, on the replayed world model), scored against the log's ground truth and optionally
compared with the recorded outputs tick by tick (``drivestack replay``).

Deterministic: the log fixes every input (frames, ego odometry, lane map, stamps); the detectors run
in eval mode on batches of ``batch_ticks`` frames (on ONNX Runtime one batch ahead of the tracker, in
a second thread: replay is open loop), the tracker and planner draw no random numbers, and the
classical detector's RANSAC is seeded. Bit-identical results need the same torch thread count
(``--threads``) as the run being compared with.
"""
from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

import numpy as np

from fusion.types import WorldModel
from fusion.world import WorldBuilder
from perception.registry import delivered_batches
from perception.frames import SensorFrame
from sim.diagnostics import DiagnosticsConfig, DiagnosticsMonitor, DiagnosticsSummary, TickView
from sim.loop.drivers import make_driver
from sim.logs import codec
from sim.logs import schemas as S
from sim.logs.compare import Comparison, diff_tick
from sim.logs.index import LogIndex, scan
from sim.logs.reader import McapLog
from sim.logs.replay_config import ReplayConfig, ReplayOptions, resolve
from sim.logs.replay_io import build_detectors, open_out_log, replay_weights
from sim.logs.scoring import ReplayScorer, plan_divergence_m
from sim.logs.ticks import read_ticks
from sim.logs.types import LoggedTick


class ReplayedTick(NamedTuple):
    """What the replayed stack produced at one tick (``trajectory`` / ``command`` None without a lane map)."""

    detections: tuple
    world: WorldModel
    trajectory: object
    command: object
    diagnostics: tuple


@dataclass(frozen=True)
class ReplayResult:
    """A replay's outcome. ``timings_s`` are totals per phase [s] over ``ticks``; ``wall_s`` is the
    whole replay after set-up (scan included); ``output_sha256`` digests every replayed output
    (equal digests: identical replays)."""

    path: Path
    index: LogIndex
    config: ReplayConfig
    weights: dict
    ticks: int
    skipped_ticks: int
    incomplete_ticks: int
    scores: dict
    divergence: dict
    comparison: dict | None
    timings_s: dict
    wall_s: float
    output_sha256: str
    issues: tuple[str, ...]
    partial: bool = False
    """Interrupted (Ctrl-C): the figures cover the ``ticks`` replayed before it."""
    diagnostics: DiagnosticsSummary | None = None
    """Runtime diagnostics of the replayed stack (no tick budget: detectors run batched, ahead)."""


def replay_log(path: str | Path, options: ReplayOptions | None = None) -> ReplayResult:
    options = options or ReplayOptions()
    with McapLog(path) as log:
        t0 = time.perf_counter()
        index = scan(log)
        scan_s = time.perf_counter() - t0
        if index.ticks == 0:
            raise ValueError(empty_message(index))
        lanes = log.attachments.get(S.LANE_MAP_ATTACHMENT, (None, None))[1]
        cfg = resolve(index, lanes, options)
        if options.compare and cfg.recorded_world_model != "perception":
            raise ValueError(f"{index.path} was recorded with world model '{cfg.recorded_world_model}': it has no "
                             f"perception outputs to compare with (record with --world-model perception)")
        engine = ReplayEngine(index, cfg, options, lanes)
        run_to_end(engine, read_ticks(log), scan_s, lambda: f"{index.path} has no tick with an ego state: nothing "
                   "could be replayed" + (f"; {log.issues[0]}" if log.issues else ""))
        return engine.result(path, tuple(log.issues))


def run_to_end(engine: ReplayEngine, ticks, scan_s: float, nothing_replayed: Callable[[], str]) -> None:
    """``engine`` over ``ticks``, closed whatever happens. Ctrl-C stops it with the ticks replayed so far
    kept (``engine.partial``); no tick replayed is ``ValueError(nothing_replayed())`` (or the Ctrl-C again)."""
    try:
        engine.timings["scan"] = scan_s
        engine.run(ticks)
    except KeyboardInterrupt:
        engine.partial = True  # Ctrl-C: the ticks replayed so far are scored and reported
    finally:
        engine.close()
    if engine.ticks == 0:
        if engine.partial:
            raise KeyboardInterrupt
        raise ValueError(nothing_replayed())


def _detect_all(det, frames: list[SensorFrame]) -> list:
    """``det`` over ``frames`` in batches of its ``max_batch`` (1: frame by frame)."""
    size = getattr(det, "max_batch", 1) if hasattr(det, "detect_batch") else 1
    if size == 1:
        return [det.detect(f) for f in frames]
    return [d for i in range(0, len(frames), size) for d in det.detect_batch(frames[i:i + size])]


def _chunks(items: Iterator, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def diagnostics_config(index: LogIndex, cfg: ReplayConfig) -> DiagnosticsConfig:
    """Diagnostics thresholds for a log: the sensors it holds, its tick, the replay's actuator limits."""
    vehicle = cfg.controller_config.vehicle
    return DiagnosticsConfig(tuple(index.sensors("camera")), tuple(index.sensors("lidar")), dt_s=cfg.dt_s,
                             tick_budget_s=cfg.dt_s, accel_range_mps2=(vehicle.min_accel_mps2, vehicle.max_accel_mps2),
                             max_steering_rad=vehicle.max_steering_rad)


def empty_message(index: LogIndex) -> str:
    damage = f"; {index.issues[0]}" if index.issues else ""
    return f"{index.path} holds no readable messages: nothing to replay{damage}"


class ReplayEngine:
    """The replayed stack over a log: today's detectors, a fresh tracker and the planner, scored tick by
    tick (``run`` for a whole log; ``detect`` + ``step`` tick by tick, as the playback server does)."""

    def __init__(self, index: LogIndex, cfg: ReplayConfig, options: ReplayOptions, lanes: bytes | None) -> None:
        self.index, self.cfg, self.options = index, cfg, options
        self.detectors = build_detectors(cfg.detectors, options, cfg.perception)
        self.builder = WorldBuilder(cfg.perception.tracker_config, cfg.perception.score_threshold)
        self.driver = make_driver(cfg.planner, cfg.planner_config, cfg.controller_config, cfg.policy_file)
        self.driver.reset()
        self.scorer = ReplayScorer(cfg.detectors)
        self.monitor = DiagnosticsMonitor(diagnostics_config(index, cfg))
        self.comparison = Comparison(options.tolerance) if options.compare else None
        self.out = open_out_log(options.out, index, cfg, options, lanes) if options.out is not None else None
        self.timings: dict[str, float] = defaultdict(float)
        self.divergence: list[np.ndarray] = []
        self.digest = hashlib.sha256()
        self.ticks = self.skipped = self.incomplete = 0
        self.wall_s = 0.0
        self._last_stamp: float | None = None
        self.intact = True
        """No tick lost or incomplete so far: tracker and planner state can match the recorded run's."""
        self.partial = False

    def run(self, ticks: Iterator[LoggedTick]) -> None:
        from tqdm import tqdm

        t_start = time.perf_counter()
        bar = tqdm(total=self.index.ticks, desc="replay", unit="tick", dynamic_ncols=True,
                   disable=not self.options.progress)
        try:
            with bar, ThreadPoolExecutor(1, thread_name_prefix="replay-detect") as ahead:
                for chunk, detections in self._detected(ticks, ahead):
                    for tick, dets in zip(chunk, detections):
                        self.step(tick, dets)
                        bar.update(1)
        finally:
            self.wall_s = time.perf_counter() - t_start + self.timings["scan"]

    def _detected(self, ticks: Iterator[LoggedTick], ahead: ThreadPoolExecutor) -> Iterator[tuple[list, list]]:
        """Chunks of ticks with their detections. On ONNX Runtime the detectors work on the next chunk
        in ``ahead`` while this thread tracks and plans the current one (the sessions release the GIL;
        replay is open loop, so no detection depends on what the stack did). On torch they run here:
        torch's intra-op threads in a second thread slowed replay (3.5-3.9 x real time vs 4.55 x)."""
        chunks = _chunks(self._timed(ticks), self.options.batch_ticks)
        if self.cfg.perception.runtime == "torch":  # torch's own threads contend with this one: no gain
            yield from ((chunk, self._detect_chunk(chunk)) for chunk in chunks)
            return
        current = next(chunks, None)
        pending = ahead.submit(self._detect_chunk, current) if current is not None else None
        while current is not None:
            following = next(chunks, None)
            detections = pending.result()
            pending = ahead.submit(self._detect_chunk, following) if following is not None else None
            yield current, detections
            current = following

    def detect(self, chunk: list[LoggedTick]) -> list[list | None]:
        """Every detector's output for each tick of ``chunk`` (None for a tick without an ego state)."""
        return self._detect_chunk(chunk)

    def _detect_chunk(self, chunk: list[LoggedTick]) -> list[list | None]:
        """Every detector once over the chunk's frames (open loop: nothing a detector sees depends on
        what the stack did); None for a tick without an ego state (it is skipped)."""
        frames = [tick.frame or SensorFrame(tick.stamp, (), ()) for tick in chunk if tick.ego is not None]
        per_detector = []
        for det in self.detectors:
            t0 = time.perf_counter()
            per_detector.append(_detect_all(det, frames))
            self.timings[f"detector_{det.name}"] += time.perf_counter() - t0
        per_frame = iter(list(zip(*per_detector)) if per_detector else [()] * len(frames))
        return [list(next(per_frame)) if tick.ego is not None else None for tick in chunk]

    def _timed(self, ticks: Iterator[LoggedTick]) -> Iterator[LoggedTick]:
        while True:
            t0 = time.perf_counter()
            tick = next(ticks, None)
            self.timings["decode"] += time.perf_counter() - t0
            if tick is None:
                return
            yield tick

    def step(self, tick: LoggedTick, dets: list | None) -> ReplayedTick | None:
        """One tick with its detections, computed ahead (None for a tick without an ego state): what
        the stack produced (None when the tick was skipped)."""
        complete = tick.frame is not None and not tick.missing
        self.intact = self.intact and complete and not self._gap_before(tick.stamp)
        if tick.ego is None:  # the tracker cannot place detections without the ego pose
            self.skipped += 1
            self.intact = False
            return None
        self.ticks += 1
        self.incomplete += not complete
        frame = tick.frame or SensorFrame(tick.stamp, (), ())
        world = self._track(tick, frame, dets)
        command, trajectory = self._plan(world)
        self._score(tick, dets, world, trajectory, complete)
        statuses = self.monitor.update(TickView(tick.stamp, tick.frame, tuple(dets), world.tracks, command,
                                                self.driver.plan_status() if trajectory is not None else None, None))
        if self.out is not None:
            t0 = time.perf_counter()
            self.out.write_tick(LoggedTick(tick.stamp, tick.frame, tick.ego, world.ego_lane_id, tick.ground_truth,
                                           tuple(dets), world.tracks, "perception", trajectory, self.cfg.planner,
                                           command), statuses)
            self.timings["write"] += time.perf_counter() - t0
        return ReplayedTick(tuple(dets), world, trajectory, command, statuses)

    def _track(self, tick: LoggedTick, frame: SensorFrame, dets: list) -> WorldModel:
        t0 = time.perf_counter()
        true_lane = tick.ground_truth.ego.lane_id if tick.ground_truth is not None else tick.ego_lane_id
        world = self.builder.update(delivered_batches(dets, frame), tick.ego, self.cfg.lane_map, self.cfg.route_nodes,
                                    true_lane)
        self.timings["tracker"] += time.perf_counter() - t0
        return world

    def _plan(self, world: WorldModel):
        if self.cfg.lane_map is None:
            return None, None
        t0 = time.perf_counter()
        command, trajectory = self.driver.act(world)
        self.timings["planner"] += time.perf_counter() - t0
        return command, trajectory

    def _gap_before(self, stamp: float) -> bool:
        """A tick missing before this one (lost to damage, or the log starts late)."""
        previous, self._last_stamp = self._last_stamp, stamp
        expected = 0.0 if previous is None else previous + self.cfg.dt_s
        return stamp > expected + 0.5 * self.cfg.dt_s

    def _score(self, tick: LoggedTick, dets: list, world: WorldModel, trajectory, complete: bool) -> None:
        t0 = time.perf_counter()
        labels = tick.frame.labels if tick.frame is not None else None
        self.scorer.add(labels, tick.ego, dets, world.tracks, tick.detections, tick.tracks)
        if trajectory is not None and tick.trajectory is not None:
            self.divergence.append(plan_divergence_m(trajectory, tick.trajectory, tick.stamp,
                                                     self.options.plan_horizon_s))
        if self.comparison is not None and not complete:
            self.comparison.skip()
        elif self.comparison is not None:
            self.comparison.add(diff_tick(tick.stamp, dets, tick.detections, world.tracks, tick.tracks, trajectory,
                                          tick.trajectory, self.intact), self.intact)
        self.digest.update(codec.dumps(codec.detections_json(tick.stamp, tuple(dets))))
        self.digest.update(codec.dumps(codec.tracks_json(tick.stamp, "perception", world.tracks)))
        if trajectory is not None:
            self.digest.update(codec.dumps(codec.trajectory_json(tick.stamp, self.cfg.planner, trajectory)))
        self.timings["scoring"] += time.perf_counter() - t0

    def close(self) -> None:
        if self.out is not None:
            self.out.close()

    def result(self, path, issues: tuple[str, ...]) -> ReplayResult:
        return ReplayResult(Path(path), self.index, self.cfg, replay_weights(self.cfg.detectors, self.options),
                            self.ticks, self.skipped, self.incomplete, self.scorer.summary(), self._divergence(),
                            self.comparison.summary() if self.comparison is not None else None, dict(self.timings),
                            self.wall_s, self.digest.hexdigest(), issues, self.partial, self.monitor.summary)

    def _divergence(self) -> dict:
        per_tick = [d for d in self.divergence if len(d)]
        if not per_tick:
            return {"ticks": 0, "horizon_s": self.options.plan_horizon_s, "mean_m": None, "max_m": None}
        return {"ticks": len(per_tick), "horizon_s": self.options.plan_horizon_s,
                "mean_m": float(np.mean([d.mean() for d in per_tick])), "max_m": float(max(d.max() for d in per_tick))}
