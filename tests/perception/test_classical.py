"""Classical lidar baseline on simulated sweeps, and its behaviour on bad input."""
import numpy as np

from conftest import straight_lane_map
from perception.classical import ClassicalLidarDetector
from perception.frames import LidarFrame, SensorFrame
from sim.highway.ground_truth import GroundTruthFrame, VehicleSnapshot
from sim.sensors.rig import load_rig
from sim.sensors.simulator import SensorSimulator


def _frame(cars):
    snaps = [VehicleSnapshot(x, y, 0.0, 20.0, 5.0, 2.0, None, 0.0) for x, y in cars]
    arr = np.array([[x, y, 20.0, 0.0, 0.0, 5.0, 2.0] for x, y in cars]).reshape(-1, 7)
    gt = GroundTruthFrame(0.0, None, VehicleSnapshot(0, 0, 0, 20, 5, 2, None, 0), tuple((None, s) for s in snaps),
                          arr, tuple(range(1, len(cars) + 1)))
    return SensorSimulator(load_rig(), straight_lane_map(3), 0).render(gt)


def test_finds_each_visible_car_near_its_centre():
    frame = _frame([(15.0, 0.0), (-12.0, -4.0), (25.0, 4.0)])
    det = ClassicalLidarDetector().detect(frame)
    assert len(det) == 3
    for x, y in [(15.0, 0.0), (-12.0, -4.0), (25.0, 4.0)]:
        assert np.hypot(det.center_m[:, 0] - x, det.center_m[:, 1] - y).min() < 2.5
    assert np.all((det.score > 0) & (det.score <= 1)) and det.covariance_m2.shape == (3, 2, 2)


def test_empty_and_nan_clouds_give_empty_detections():
    frame = _frame([(15.0, 0.0)])
    lid = frame.lidars[0]
    empty = SensorFrame(0.0, (), (LidarFrame(0.0, lid.calibration, np.zeros((0, 5), np.float32)),), None)
    assert len(ClassicalLidarDetector().detect(empty)) == 0
    nan = SensorFrame(0.0, (), (LidarFrame(0.0, lid.calibration, np.full((100, 5), np.nan, np.float32)),), None)
    assert len(ClassicalLidarDetector().detect(nan)) == 0
