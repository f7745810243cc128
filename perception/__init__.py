"""Sensor frame types and calibration, the detectors (learned lidar and camera networks, a classical
lidar baseline, the surrogate error model) behind one registry, data sets, training and evaluation.
``Registry`` (``perception.lookup``) is the typed name table every package's registries use."""
from perception.calibration import (CameraCalibration, LidarCalibration, intrinsics, mount_transform,
                                    transform_points)
from perception.detections import Detections, Detector
from perception.frames import BoxLabels, CameraFrame, LidarFrame, SensorFrame
from perception.lookup import Registry
from perception.registry import DETECTORS, make_detector

__all__ = ["BoxLabels", "CameraCalibration", "CameraFrame", "DETECTORS", "Detections", "Detector",
           "LidarCalibration", "LidarFrame", "Registry", "SensorFrame", "intrinsics", "make_detector",
           "mount_transform", "transform_points"]
