"""Reference paths: lane chains through successors and smooth blending onto a lane."""
import numpy as np

from conftest import straight_lane_map
from fusion import Lane, LaneMap, arc_length
from planning.paths import blend_in, build_chain, local_path, on_cycle, reachable


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


def _straight(lane_id: str, start, end, successors=()) -> Lane:
    pts = np.array([start, end], dtype=float)
    a, b = lane_id.split(">")[:2]
    return Lane(lane_id, a, b, pts, arc_length(pts), 4.0, 15.0, successor_ids=successors)


def test_a_junction_whose_exits_end_where_its_entries_start_is_no_cycle():
    # highway-env's intersection: the exit lane l0>o0 ends at node o0, where the entry o0>i0 starts
    # (a U-turn), so the successor graph loops through the junction; a U-turn is not a way on
    lanes = LaneMap({lane.lane_id: lane for lane in (
        _straight("o0>i0>0", (2, -100), (2, -6), ("i0>l2>0",)), _straight("i0>l2>0", (2, -6), (2, 6), ("l2>o2>0",)),
        _straight("l2>o2>0", (2, 6), (2, 100), ("o2>i2>0",)), _straight("o2>i2>0", (-2, 100), (-2, 6), ("i2>l0>0",)),
        _straight("i2>l0>0", (-2, 6), (-2, -6), ("l0>o0>0",)),
        _straight("l0>o0>0", (-2, -6), (-2, -100), ("o0>i0>0",)))})
    assert reachable(lanes, "o0>i0>0", 10) == {"i0>l2>0", "l2>o2>0"}
    assert not any(on_cycle(lanes, lane_id) for lane_id in lanes.lanes)


def test_a_ring_is_a_cycle():
    corners = [(0, 0), (20, 0), (20, 20), (0, 20)]
    names = "ABCD"
    lanes = LaneMap({f"{names[i]}>{names[(i + 1) % 4]}>0": _straight(
        f"{names[i]}>{names[(i + 1) % 4]}>0", corners[i], corners[(i + 1) % 4],
        (f"{names[(i + 1) % 4]}>{names[(i + 2) % 4]}>0",)) for i in range(4)})
    assert all(on_cycle(lanes, lane_id) for lane_id in lanes.lanes)  # 90-degree turns carry on
