"""Vehicle model, trajectory type and tracking controllers producing ``Command``."""
from control.controller import Controller, ControllerConfig, TrackingController
from control.tracking import PurePursuitParams, SpeedPidParams
from control.types import Command, PoseLike, Trajectory, VehicleParams
from control.vehicle_model import bicycle_step, steering_for_curvature

__all__ = [
    "Command", "Controller", "ControllerConfig", "PoseLike", "PurePursuitParams",
    "SpeedPidParams", "TrackingController", "Trajectory", "VehicleParams", "bicycle_step",
    "steering_for_curvature",
]
