"""Each diagnostic check on hand-built ticks: the right level and message for each fault, OK without."""
import numpy as np
import pytest

from control.types import Command
from fusion.types import Track
from perception.calibration import LidarCalibration
from perception.detections import Detections
from perception.frames import LidarFrame, SensorFrame
from sim.diagnostics import DiagnosticsConfig, DiagnosticsMonitor, DiagnosticsSummary, Level, TickView, format_summary
from sim.loop.drivers import PlanStatus, status_from_debug

CFG = DiagnosticsConfig(lidars=("roof",))


def lidar_frame(stamp: float, capture: float | None = None) -> SensorFrame:
    cal = LidarCalibration("roof", 32, (-25.0, 10.0), 0.5, 100.0, np.eye(4))
    points = np.zeros((10, 5), np.float32)
    return SensorFrame(stamp if capture is None else capture, (), (LidarFrame(stamp, cal, points),))


def view(stamp=0.0, frame=None, detections=None, tracks=(), command=None, plan=None, stack_s=None) -> TickView:
    return TickView(stamp, frame, detections, tracks, command, plan, stack_s)


def only(statuses, module):
    found = [s for s in statuses if s.module == module]
    assert len(found) == 1, statuses
    return found[0]


def lidar_batch(n: int, stamp: float) -> Detections:
    return Detections(stamp, "lidar", np.zeros((n, 3)), np.ones((n, 3)), np.zeros(n), np.full(n, 0.9),
                      np.tile(np.eye(2), (n, 1, 1)))


def test_lidar_blackout_warns_then_errors_and_recovers():
    monitor = DiagnosticsMonitor(CFG)
    levels = []
    for k in range(10):
        stamp = 0.1 * k
        frame = SensorFrame(stamp, (), ()) if 2 <= k <= 6 else lidar_frame(stamp)
        levels.append(only(monitor.update(view(stamp, frame)), "lidar/roof").level)
    # silent since 0.1 s: 0.1, 0.2 s are dropped ticks, from 0.3 s (> 0.25 s timeout) a blackout
    assert levels == [Level.OK, Level.OK, Level.WARN, Level.WARN, Level.ERROR, Level.ERROR, Level.ERROR,
                      Level.OK, Level.OK, Level.OK]
    assert "blackout" in monitor.summary.first["lidar/roof"][Level.ERROR][1]


def test_stale_frames_are_late_then_a_timeout():
    monitor = DiagnosticsMonitor(CFG)
    assert only(monitor.update(view(1.0, lidar_frame(1.0, capture=0.9))), "lidar/roof").level == Level.WARN
    status = only(monitor.update(view(1.1, lidar_frame(1.1, capture=0.7))), "lidar/roof")
    assert status.level == Level.ERROR and "timeout" in status.message


def test_no_frame_rendered_checks_no_sensor():
    assert [s for s in DiagnosticsMonitor(CFG).update(view(0.0)) if s.module.startswith("lidar")] == []


@pytest.mark.parametrize("stack_s,level", [(0.05, Level.OK), (0.15, Level.WARN), (0.35, Level.ERROR)])
def test_slow_tick_against_the_budget(stack_s, level):
    status = only(DiagnosticsMonitor(CFG).update(view(stack_s=stack_s)), "loop")
    assert status.level == level and dict(status.values)["stack_ms"] == pytest.approx(1000 * stack_s)


@pytest.mark.parametrize("command,level,needle", [
    (Command(0.0, 1.0, 0.1), Level.OK, "accel 1.00"),
    (Command(0.0, float("nan"), 0.0), Level.ERROR, "non-finite"),
    (Command(0.0, 0.0, float("inf")), Level.ERROR, "non-finite"),
    (Command(0.0, -9.0, 0.0), Level.WARN, "clipped"),
    (Command(0.0, 0.0, 0.7), Level.WARN, "clipped"),
])
def test_commands(command, level, needle):
    status = only(DiagnosticsMonitor(CFG).update(view(command=command)), "controller")
    assert status.level == level and needle in status.message


def test_detector_output_collapse():
    monitor = DiagnosticsMonitor(CFG)
    counts = [6] * 20 + [1] * 5 + [0] * 5
    levels = [only(monitor.update(view(0.1 * k, lidar_frame(0.1 * k), (lidar_batch(n, 0.1 * k),))),
                   "detector/lidar").level for k, n in enumerate(counts)]
    assert set(levels[:22]) == {Level.OK}
    assert Level.WARN in levels[20:25] and levels[-1] == Level.ERROR


def test_detector_without_its_sensor_is_idle_not_collapsed():
    monitor = DiagnosticsMonitor(CFG)
    for k in range(20):
        monitor.update(view(0.1 * k, lidar_frame(0.1 * k), (lidar_batch(6, 0.1 * k),)))
    for k in range(20, 30):
        status = only(monitor.update(view(0.1 * k, SensorFrame(0.1 * k, (), ()), (lidar_batch(0, 0.1 * k),))),
                      "detector/lidar")
        assert status.level == Level.OK and "idle" in status.message


def track(std_m: float, x: float = 10.0) -> Track:
    return Track(1, x, 0.0, 20.0, 0.0, 0.0, 5.0, 2.0, np.diag([std_m ** 2, 0.01, 1.0, 1.0]))


@pytest.mark.parametrize("tracks,level", [((), Level.OK), ((track(0.3),), Level.OK), ((track(7.0),), Level.WARN),
                                          ((track(0.3), track(25.0)), Level.ERROR),
                                          ((track(0.3, x=float("nan")),), Level.ERROR)])
def test_tracker_covariance(tracks, level):
    assert only(DiagnosticsMonitor(CFG).update(view(tracks=tracks)), "tracker").level == level


def test_planner_without_a_collision_free_proposal():
    monitor = DiagnosticsMonitor(CFG)
    blocked = PlanStatus(12, 0, 1.5)
    plans = [PlanStatus(12, 8, float("inf")), blocked, blocked, blocked, PlanStatus(12, 3, 2.0)]
    levels = [only(monitor.update(view(0.1 * k, plan=p)), "planner").level for k, p in enumerate(plans)]
    assert levels == [Level.OK, Level.WARN, Level.WARN, Level.ERROR, Level.OK]


def test_plan_status_from_the_rule_planners_scores():
    debug = {"terms": {"collision": np.array([True, False, True]), "collision_time_s": np.array([1.0, 5.0, 2.5])},
             "best": 2}
    assert status_from_debug(debug) == PlanStatus(3, 1, 2.5)
    assert status_from_debug({}) is None


def test_summary_counts_merges_and_fails_on():
    a, b = DiagnosticsMonitor(CFG), DiagnosticsMonitor(CFG)
    a.update(view(0.0, command=Command(0.0, 0.0, 0.0)))
    b.update(view(0.0, command=Command(0.0, float("nan"), 0.0)))
    b.update(view(0.1, command=Command(0.1, -9.0, 0.0)))
    total = a.summary.merge(b.summary)
    assert total.ticks == 3 and total.counts["controller"] == [1, 1, 1]
    assert total.worst == Level.ERROR
    assert total.fails("error") and total.fails("warn") and not total.fails("never")
    assert not a.summary.fails("warn") and DiagnosticsSummary().worst == Level.OK
    table = format_summary(total)
    assert "controller" in table and "ERROR at 0.0 s: non-finite" in table
    assert total.to_json()["modules"]["controller"]["ERROR"] == 1


def test_a_plan_without_proposals_has_no_status_even_after_one_with_them():
    from conftest import make_world, straight_lane_map

    from control.controller import TrackingController
    from fusion import EgoState, WorldModel
    from planning import RulePlanner
    from sim.loop.drivers import StackDriver

    driver = StackDriver("rule", RulePlanner(), TrackingController())
    driver.act(make_world(straight_lane_map(2), (0.0, 0.0, 20.0), [], "a>b>0"))
    first = driver.plan_status()
    assert first is not None and first.proposals > 0 and first.collision_free == first.proposals
    lane_map = straight_lane_map(2)
    driver.act(WorldModel(0.1, EgoState(0.1, 10.0, 5.0, 0.3, 6.0), (), type(lane_map)({}), None))
    assert driver.plan_status() is None
