"""Reference paths: lane chains through successors and smooth blending onto a lane."""
import numpy as np

from conftest import straight_lane_map
from fusion import Lane, LaneMap, arc_length
from planning.paths import blend_in, build_chain, local_path


def test_blend_starts_at_the_offset_and_merges_smoothly():
    xy = np.stack([np.arange(0.0, 101.0, 2.0), np.zeros(51)], axis=1)
    out, yaw = blend_in(xy, np.zeros(51), offset_m=4.0, blend_length_m=50.0)
    assert np.isclose(out[0, 1], 4.0) and np.allclose(out[26:, 1], 0.0)   # on the lane after 50 m
    assert np.all(np.diff(out[:, 1]) <= 1e-12)                                # monotone, no overshoot
    curvature = np.abs(np.diff(yaw)) / 2.0
    assert curvature.max() < 6.0 * 4.0 / 50.0 ** 2 * 1.2                      # smoothstep peak ~ 6 d / L^2


def test_chain_follows_successors_along_the_route():
    a = np.array([[0.0, 0.0], [100.0, 0.0]])
    left = np.array([[100.0, 0.0], [150.0, 50.0]])
    right = np.array([[100.0, 0.0], [150.0, -50.0]])
    lanes = {
        "a>b>0": Lane("a>b>0", "a", "b", a, arc_length(a), 4.0, 20.0, successor_ids=("b>l>0", "b>r>0")),
        "b>l>0": Lane("b>l>0", "b", "l", left, arc_length(left), 4.0, 20.0),
        "b>r>0": Lane("b>r>0", "b", "r", right, arc_length(right), 4.0, 20.0),
    }
    chain = build_chain(LaneMap(lanes), "a>b>0", ("a", "b", "r"), 200.0)
    assert chain.lane_ids == ("a>b>0", "b>r>0") and chain.on_route
    assert chain.points_m[-1, 1] < 0                                           # turned right, as routed


def test_local_path_window_starts_at_the_projection():
    chain = build_chain(straight_lane_map(1), "a>b>0", (), 100.0)
    xy, yaw, offset, remaining = local_path(chain, 10.0, 1.5, 50.0, 2.0)
    assert np.allclose(xy[0], [10.0, 0.0]) and np.isclose(offset, 1.5)
    assert np.allclose(yaw, 0.0) and len(xy) == 26
