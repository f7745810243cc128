"""Camera and lidar simulation from highway-env scenes (open3d ray casting)."""
from sim.sensors.rig import RigConfig, load_rig
from sim.sensors.simulator import SensorSimulator, scene_vehicles

__all__ = ["RigConfig", "SensorSimulator", "load_rig", "scene_vehicles"]
