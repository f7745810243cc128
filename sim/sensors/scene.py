"""The 3-D scene of one tick in the ego frame: vehicle boxes (open3d ray casting) over a flat
ground (analytic plane z = 0)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# 12 triangles of a unit box with corners indexed by (+-x, +-y, +-z) bits, outward winding
_BOX_TRIS = np.array([[0, 2, 1], [1, 2, 3], [4, 5, 6], [5, 7, 6], [0, 1, 4], [1, 5, 4],
                      [2, 6, 3], [3, 6, 7], [0, 4, 2], [2, 4, 6], [1, 3, 5], [3, 7, 5]], dtype=np.uint32)
_CORNER_SIGNS = np.array([[(i >> 2 & 1) * 2 - 1, (i >> 1 & 1) * 2 - 1, (i & 1) * 2 - 1] for i in range(8)],
                         dtype=float)[:, [2, 1, 0]]


@dataclass(frozen=True)
class SceneVehicles:
    """Vehicles of one tick in the ego frame: ``track_id`` (N,), ``center_m`` (N, 3), ``size_m`` (N, 3)
    length/width/height, ``yaw_rad`` (N,), ``velocity_mps`` (N, 2) over ground in ego axes,
    ``color`` (N, 3) RGB in [0, 1]."""

    track_id: np.ndarray
    center_m: np.ndarray
    size_m: np.ndarray
    yaw_rad: np.ndarray
    velocity_mps: np.ndarray
    color: np.ndarray

    def __len__(self) -> int:
        return len(self.track_id)

    def corners(self) -> np.ndarray:
        """Box corners (N, 8, 3) in the ego frame."""
        local = _CORNER_SIGNS[None] * (self.size_m[:, None, :] / 2.0)
        c, s = np.cos(self.yaw_rad)[:, None], np.sin(self.yaw_rad)[:, None]
        x = c * local[..., 0] - s * local[..., 1]
        y = s * local[..., 0] + c * local[..., 1]
        return np.stack([x, y, local[..., 2]], axis=-1) + self.center_m[:, None, :]


@dataclass(frozen=True)
class RayHits:
    """First hits of rays: ``t_m`` (N,) distance along the (unit) ray, inf for none; ``vehicle`` (N,)
    index into SceneVehicles or -1 for ground/nothing; ``normal`` (N, 3); ``ground`` (N,) bool."""

    t_m: np.ndarray
    vehicle: np.ndarray
    normal: np.ndarray
    ground: np.ndarray


def ground_distance(origins: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """Distance (N,) along each ray to the ground plane z = 0 (inf when it never gets there)."""
    return np.where(dirs[:, 2] < -1e-6, -origins[:, 2] / np.minimum(dirs[:, 2], -1e-6), np.inf)


def cast(vehicles: SceneVehicles, origins: np.ndarray, dirs: np.ndarray, max_range_m: float,
         candidates: np.ndarray | None = None, t_ground: np.ndarray | None = None) -> RayHits:
    """Cast unit rays (N, 3) from origins (N, 3) against the vehicles and the ground plane.

    ``candidates`` (N,) bool, if given, marks the only rays that can reach a vehicle (the sensor
    knows where the boxes project); the others skip the ray-box test.
    """
    n = len(dirs)
    t_ground = ground_distance(origins, dirs) if t_ground is None else t_ground
    t_veh, idx, normal = np.full(n, np.inf, np.float32), np.full(n, -1), np.zeros((n, 3), np.float32)
    sel = np.flatnonzero(candidates) if candidates is not None else np.arange(n)
    if len(vehicles) and len(sel):
        t_veh[sel], idx[sel], normal[sel] = _cast_boxes(vehicles, origins[sel], dirs[sel])
    veh_first = t_veh < t_ground
    t = np.where(veh_first, t_veh, t_ground)
    t = np.where(t <= max_range_m, t, np.inf)
    vehicle = np.where(veh_first & np.isfinite(t), idx, -1)
    ground = ~veh_first & np.isfinite(t)
    normal = np.where(ground[:, None], np.array([0.0, 0.0, 1.0], np.float32), normal)
    return RayHits(t.astype(np.float32), vehicle, normal, ground)


def load_ray_caster() -> None:
    """Import open3d now (about 1.5 s) rather than at the first ray cast: a sensor simulator that
    will cast rays calls this when it is built, so its first frame costs what the others do."""
    import open3d  # noqa: F401


def build_scene(vehicles: SceneVehicles):
    """One triangle mesh of all boxes (12 triangles each, vehicle = primitive id // 12).

    Rebuilt every tick: open3d's scene cannot move geometry, and a rebuild of a few dozen boxes
    costs well under a millisecond (``drivestack bench-sensors`` reports it). Returns an open3d
    ``t.geometry.RaycastingScene``; open3d is imported here (or by ``load_ray_caster``), not with the
    module (it takes about 1.5 s, which every command that never casts a ray would pay).
    """
    import open3d as o3d

    verts = vehicles.corners().reshape(-1, 3).astype(np.float32)
    tris = (_BOX_TRIS[None] + 8 * np.arange(len(vehicles), dtype=np.uint32)[:, None, None]).reshape(-1, 3)
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.core.Tensor(verts), o3d.core.Tensor(tris))
    return scene


def _cast_boxes(vehicles: SceneVehicles, origins: np.ndarray, dirs: np.ndarray):
    import open3d as o3d

    scene = build_scene(vehicles)
    rays = o3d.core.Tensor(np.concatenate([origins, dirs], axis=1).astype(np.float32))
    ans = scene.cast_rays(rays)
    t = ans["t_hit"].numpy()
    prim = ans["primitive_ids"].numpy().astype(np.int64)
    hit = np.isfinite(t)
    idx = np.where(hit, prim // 12, -1)
    return t, idx, ans["primitive_normals"].numpy()
