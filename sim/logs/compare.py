"""Tick-by-tick comparison of replayed outputs with the recorded ones (``replay --compare``), the
way openpilot's process replay catches regressions: any difference above the tolerance fails.

Per tick and output, the difference is the largest absolute difference over every number of it:
detections (centre, size [m], yaw [rad], score, covariance [m^2]) per detector in output order;
tracks (state, size, yaw, covariance) by id; the plan's positions [m] and speeds [m/s] at the
same times. A different count, different ids or a missing output is an infinite difference.

On a damaged log the replay cannot reproduce everything: a tick whose sensor data is incomplete is
not compared, and once a tick has been lost (or was incomplete) the tracker and planner state differ
from the recorded run's, so from there on only the detections (one frame each) are compared.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from control.types import Trajectory
from fusion.tracker import wrap_angle
from fusion.types import Track
from perception.detections import Detections

OUTPUTS = ("detections", "tracks", "plan")


@dataclass(frozen=True)
class TickDiff:
    """Largest differences of one tick per output (``OUTPUTS``) and what explains an infinite one."""

    stamp: float
    detections: float
    tracks: float
    plan: float
    notes: tuple[str, ...] = ()

    def worst(self) -> float:
        return max(self.detections, self.tracks, self.plan)


def diff_tick(stamp: float, new_dets: list[Detections], old_dets: tuple[Detections, ...] | None,
              new_tracks: tuple[Track, ...], old_tracks: tuple[Track, ...] | None,
              new_plan: Trajectory | None, old_plan: Trajectory | None, stateful: bool = True) -> TickDiff:
    """``stateful`` False compares the detections only (tracks and plan count as equal)."""
    notes: list[str] = []
    dets = _detections(new_dets, old_dets or (), notes)
    if not stateful:
        return TickDiff(stamp, dets, 0.0, 0.0, tuple(notes))
    return TickDiff(stamp, dets, _tracks(new_tracks, old_tracks, notes), _plan(new_plan, old_plan, notes), tuple(notes))


def _max_abs(*pairs) -> float:
    return max((float(np.max(np.abs(np.subtract(a, b, dtype=float)))) for a, b in pairs if np.size(a)),
               default=0.0)


def _detections(new: list[Detections], old: tuple[Detections, ...], notes: list[str]) -> float:
    old_by, worst = {d.source: d for d in old}, 0.0
    for d in new:
        o = old_by.pop(d.source, None)
        if o is None:
            notes.append(f"{d.source}: no recorded detections")
            worst = np.inf
        elif len(d) != len(o):
            notes.append(f"{d.source}: {len(d)} detections, {len(o)} recorded")
            worst = np.inf
        else:
            yaw = wrap_angle(np.subtract(d.yaw_rad, o.yaw_rad, dtype=float))
            worst = max(worst, _max_abs((d.center_m, o.center_m), (d.size_m, o.size_m), (yaw, 0.0),
                                        (d.score, o.score), (d.covariance_m2, o.covariance_m2)))
    for source in old_by:
        notes.append(f"{source}: recorded but not replayed")
        worst = np.inf
    return worst


def _track_row(t: Track) -> np.ndarray:
    return np.concatenate([[t.x_m, t.y_m, t.vx_mps, t.vy_mps, t.length_m, t.width_m, t.lane_offset_m],
                           np.ravel(t.covariance)])


def _tracks(new: tuple[Track, ...], old: tuple[Track, ...] | None, notes: list[str]) -> float:
    if old is None:
        notes.append("no recorded tracks")
        return np.inf
    new_ids, old_ids = [t.track_id for t in new], [t.track_id for t in old]
    if new_ids != old_ids:
        notes.append(f"track ids {_ids(new_ids)}, recorded {_ids(old_ids)}")
        return np.inf
    if any(a.lane_id != b.lane_id or a.status != b.status for a, b in zip(new, old)):
        notes.append("a track's lane or status differs")
        return np.inf
    yaw = [wrap_angle(a.yaw_rad - b.yaw_rad) for a, b in zip(new, old)]
    return _max_abs(*((_track_row(a), _track_row(b)) for a, b in zip(new, old)), (yaw, np.zeros(len(yaw))))


def _ids(ids: list[int]) -> str:
    return "[" + ", ".join(map(str, ids[:8])) + (", ..." if len(ids) > 8 else "") + "]"


def _plan(new: Trajectory | None, old: Trajectory | None, notes: list[str]) -> float:
    if new is None and old is None:
        return 0.0
    if new is None or old is None:
        notes.append("plan " + ("not recorded" if old is None else "not replayed"))
        return np.inf
    if len(new) != len(old) or not np.array_equal(new.t_s, old.t_s):
        notes.append(f"plan has {len(new)} poses, recorded {len(old)} (or other times)")
        return np.inf
    dist = np.linalg.norm(np.asarray(new.xy_m) - np.asarray(old.xy_m), axis=1)
    return max(float(dist.max()), _max_abs((new.speed_mps, old.speed_mps)))


class Comparison:
    """Accumulates ``TickDiff``s against a tolerance; ``skip`` counts a tick that could not be
    compared, ``detections_only`` one compared on its detections alone. Nothing compared fails."""

    def __init__(self, tolerance: float) -> None:
        self.tolerance = tolerance
        self.ticks = self.diverged = self.skipped = self.detections_only = 0
        self.first: TickDiff | None = None
        self.max = {k: 0.0 for k in OUTPUTS}

    def skip(self) -> None:
        self.skipped += 1

    def add(self, d: TickDiff, stateful: bool = True) -> None:
        self.ticks += 1
        self.detections_only += not stateful
        for k in OUTPUTS:
            self.max[k] = max(self.max[k], getattr(d, k))
        if d.worst() > self.tolerance:
            self.diverged += 1
            self.first = self.first or d

    @property
    def passed(self) -> bool:
        return self.diverged == 0 and self.ticks > 0

    def summary(self) -> dict:
        first = None
        if self.first is not None:
            f = self.first
            first = {"stamp": f.stamp, **{k: getattr(f, k) for k in OUTPUTS}, "notes": list(f.notes)}
        return {"tolerance": self.tolerance, "ticks": self.ticks, "diverged_ticks": self.diverged,
                "skipped_ticks": self.skipped, "detections_only_ticks": self.detections_only,
                "max_difference": dict(self.max), "first_divergence": first, "passed": self.passed}
