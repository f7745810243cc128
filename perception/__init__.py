"""Sensor frame types, camera and lidar detectors, datasets, training and evaluation.

Populated by the sensor-simulation and detector work; the spine runs on the ground-truth world model.
"""
__all__: list[str] = []
