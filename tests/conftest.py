"""Shared fixtures: hand-built lane maps and world models in the project's own types."""
import json
import os

import numpy as np
import pytest

os.environ["SDL_VIDEODRIVER"] = "offscreen"  # highway-env renders nothing under "dummy"

from fusion import EgoState, Lane, LaneMap, Track, WorldModel, arc_length  # noqa: E402


def straight_lane_map(n_lanes: int = 3, length_m: float = 2000.0, width_m: float = 4.0,
                      speed_limit_mps: float = 30.0) -> LaneMap:
    """Parallel straight lanes along +x; lane 0 is the leftmost (y = 0), lane i at y = -width * i."""
    lanes = {}
    for i in range(n_lanes):
        pts = np.array([[-100.0, -width_m * i], [length_m, -width_m * i]])
        lanes[f"a>b>{i}"] = Lane(f"a>b>{i}", "a", "b", pts, arc_length(pts), width_m, speed_limit_mps,
                                 f"a>b>{i - 1}" if i > 0 else None,
                                 f"a>b>{i + 1}" if i < n_lanes - 1 else None)
    return LaneMap(lanes)


def arc_lane_map(radius_m: float = 30.0, width_m: float = 4.0) -> LaneMap:
    """One lane turning left along a circle of the given radius, starting at the origin heading +x."""
    ang = np.linspace(-np.pi / 2, np.pi, 300)
    pts = np.stack([radius_m * np.cos(ang), radius_m + radius_m * np.sin(ang)], axis=1)
    return LaneMap({"c>d>0": Lane("c>d>0", "c", "d", pts, arc_length(pts), width_m, 15.0)})


def make_track(track_id: int, x: float, y: float, speed: float, lane_id: str | None = None) -> Track:
    return Track(track_id, x, y, speed, 0.0, 0.0, 5.0, 2.0, np.eye(4) * 0.01, lane_id)


def make_world(lane_map: LaneMap, ego_xy_v: tuple[float, float, float], tracks: list[Track],
               ego_lane: str | None, stamp: float = 0.0, yaw: float = 0.0) -> WorldModel:
    x, y, v = ego_xy_v
    return WorldModel(stamp, EgoState(stamp, x, y, yaw, v), tuple(tracks), lane_map, ego_lane)


def record_log(path, world_model: str, seconds: float, seed: int):
    """Record one highway episode (rule planner, every tick's sensor frame) to the MCAP log ``path``."""
    from sim.logs.record import LogRecorder
    from sim.loop.runner import run_episode
    from sim.loop.setup import build_setup

    setup = build_setup("highway", "rule", world_model, [f"scenario.duration_s={seconds}"])
    recorder = LogRecorder(path, setup, seed=seed)
    try:
        run_episode(setup, seed, [recorder], sensors=True)
    finally:
        recorder.close()
    return path


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """A tiny data set for the training smoke tests (one val frame, the rest train)."""
    from sim.dataset.datagen import DatagenConfig, generate
    from sim.sensors.rig import load_rig

    out = tmp_path_factory.mktemp("tiny_data")
    generate(DatagenConfig(("highway",), frames=4, seed=3, frames_per_episode=2), load_rig(), out, backend=1)
    m = json.loads((out / "manifest.json").read_text())
    for i, row in enumerate(m["frames"]):  # one val frame, the rest train, whatever the seed split said
        row["split"] = "val" if i == 0 else "train"
    (out / "manifest.json").write_text(json.dumps(m))
    return out
