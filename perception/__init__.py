"""Sensor frame types and calibration (detectors, datasets and training come with later issues)."""
from perception.calibration import (CameraCalibration, LidarCalibration, intrinsics, mount_transform,
                                    transform_points)
from perception.frames import BoxLabels, CameraFrame, LidarFrame, SensorFrame

__all__ = ["BoxLabels", "CameraCalibration", "CameraFrame", "LidarCalibration", "LidarFrame", "SensorFrame",
           "intrinsics", "mount_transform", "transform_points"]
