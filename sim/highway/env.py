"""The highway-env episode seen from the loop: opening an env, the ego's route, collision fault,
the IDM/MOBIL baseline ego and the top-down picture. Everything here reads highway-env's objects."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from control.types import VehicleParams
from sim.highway.actions import action_ranges
from sim.highway.frames import map_to_he_xy
from sim.highway.scenarios import ScenarioConfig, make_env


def open_env(scenario: ScenarioConfig, vehicle: VehicleParams, render: bool = False):
    """The scenario's highway-env environment with the action ranges of the ego's vehicle."""
    accel_range, steer_max = action_ranges(vehicle)
    return make_env(scenario, accel_range, steer_max, render=render)


def route_nodes(env, destination: str | None) -> tuple[str, ...]:
    """Road-network nodes from the ego's lane to ``destination`` (empty when there is none)."""
    base = env.unwrapped
    if destination is None:
        return ()
    start = base.vehicle.lane_index[0]
    path = base.road.network.shortest_path(start, destination)
    if not path:
        raise ValueError(f"scenario destination '{destination}' is unreachable from '{start}'")
    return tuple(path)


def ego_speed_limit_mps(env, default_mps: float = 20.0) -> float:
    """Speed limit of the ego's current lane [m/s]."""
    lane = env.unwrapped.vehicle.lane
    return float(lane.speed_limit) if lane is not None and lane.speed_limit else default_mps


def ego_crashed(env) -> bool:
    return bool(env.unwrapped.vehicle.crashed)


def collision_fault(env) -> bool:
    """At fault unless the ego was (nearly) stopped or was hit from behind."""
    base = env.unwrapped
    ego = base.vehicle
    if ego.speed < 0.5:
        return False
    crashed = [v for v in base.road.vehicles if v is not ego and v.crashed]
    if not crashed:
        return True
    other = min(crashed, key=lambda v: np.linalg.norm(v.position - ego.position))
    rel = other.position - ego.position
    return bool(rel[0] * np.cos(ego.heading) + rel[1] * np.sin(ego.heading) > 0.0)


def replace_ego_with_idm(env, route: tuple[str, ...], desired_speed_mps: float) -> None:
    """Baseline ego: highway-env's IDM (longitudinal) + MOBIL (lane changes) at the ego's pose and
    speed, routed to the route's last node; the environment then ignores the actions it is given."""
    from highway_env.vehicle.behavior import IDMVehicle

    base = env.unwrapped
    old = base.vehicle
    new = IDMVehicle(base.road, old.position.copy(), old.heading, old.speed,
                     target_lane_index=old.lane_index, target_speed=desired_speed_mps)
    if len(route) > 1:
        new.plan_route_to(route[-1])
    base.road.vehicles[base.road.vehicles.index(old)] = new
    base.controlled_vehicles = [new]


@dataclass(frozen=True)
class TopDownView:
    """highway-env's top-down picture of one tick (RGB, (H, W, 3) uint8) and its pixel mapping."""

    rgb: np.ndarray
    origin_he_m: tuple[float, float]
    """highway-env coordinates of the picture's top-left corner [m]."""
    pixels_per_m: float

    def to_pixels(self, xy_map_m: np.ndarray) -> np.ndarray:
        """Map-frame points (N, 2) [m] -> integer pixel coordinates (N, 2)."""
        he = map_to_he_xy(np.asarray(xy_map_m, float).reshape(-1, 2))
        return ((he - np.array(self.origin_he_m)) * self.pixels_per_m).astype(np.int32)


def top_down_view(env) -> TopDownView | None:
    """Render the env now (None when it renders nothing)."""
    rgb = env.render()
    viewer = getattr(env.unwrapped, "viewer", None)
    if rgb is None or viewer is None:
        return None
    surface = viewer.sim_surface
    return TopDownView(np.asarray(rgb), (float(surface.origin[0]), float(surface.origin[1])), float(surface.scaling))
