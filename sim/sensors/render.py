"""Camera and lidar rendering from the ray-cast scene: images, depth, instance ids, point clouds."""
from __future__ import annotations

import cv2
import numpy as np

from perception.calibration import CameraCalibration, LidarCalibration
from perception.frames import CameraFrame, LidarFrame
from sim.sensors.rig import NoiseConfig
from sim.sensors.road_texture import GRASS, MARKING, ROAD, RoadTexture
from sim.sensors.scene import RayHits, SceneVehicles, cast, ground_distance

GROUND_RGB = {GRASS: (0.33, 0.50, 0.26), ROAD: (0.38, 0.38, 0.40), MARKING: (0.92, 0.92, 0.88)}
GROUND_INTENSITY = {GRASS: 0.10, ROAD: 0.20, MARKING: 0.80}
LIGHT_DIR = np.array([0.4, 0.3, 0.87]) / np.linalg.norm([0.4, 0.3, 0.87])
CAMERA_RANGE_M = 150.0


def camera_rays(cal: CameraCalibration) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ego-frame ray origins (H*W, 3), unit directions (H*W, 3) and each ray's optical-axis cosine."""
    u, v = np.meshgrid(np.arange(cal.width_px) + 0.5, np.arange(cal.height_px) + 0.5)
    pix = np.stack([u.ravel(), v.ravel(), np.ones(u.size)], axis=1)
    d_opt = pix @ np.linalg.inv(cal.K).T
    d_opt /= np.linalg.norm(d_opt, axis=1, keepdims=True)
    dirs = d_opt @ cal.T_ego_from_sensor[:3, :3].T
    origins = np.broadcast_to(cal.T_ego_from_sensor[:3, 3], dirs.shape).copy()
    return origins, dirs, d_opt[:, 2]


def lidar_rays(cal: LidarCalibration) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ego-frame origins and unit directions (B*A, 3), sensor-frame directions, and ring indices."""
    elev, az = np.meshgrid(cal.beam_elevations_rad(), cal.azimuths_rad(), indexing="ij")
    d_sensor = np.stack([np.cos(elev) * np.cos(az), np.cos(elev) * np.sin(az), np.sin(elev)], -1).reshape(-1, 3)
    ring = np.repeat(np.arange(cal.n_beams), elev.shape[1])
    dirs = d_sensor @ cal.T_ego_from_sensor[:3, :3].T
    origins = np.broadcast_to(cal.T_ego_from_sensor[:3, 3], dirs.shape).copy()
    return origins, dirs, d_sensor, ring


class _Ground:
    """What every ray of a sensor sees of the flat ground; rays are fixed in the ego frame, so the
    hit points never change and only the texture under them does."""

    def __init__(self, origins: np.ndarray, dirs: np.ndarray) -> None:
        self.t = ground_distance(origins, dirs).astype(np.float32)
        finite = np.isfinite(self.t)
        self.index = np.flatnonzero(finite & (self.t < 400.0))
        pts = origins[self.index] + dirs[self.index] * self.t[self.index, None]
        self.x, self.y = pts[:, 0], pts[:, 1]

    def classes(self, hits: RayHits, texture: RoadTexture, raster: np.ndarray) -> np.ndarray:
        """Texture class (N,) under each ray that hits the ground (GRASS elsewhere)."""
        cls = np.full(len(self.t), GRASS, np.uint8)
        cls[self.index] = texture.lookup(raster, self.x, self.y)
        return np.where(hits.ground, cls, GRASS)


class CameraRenderer:
    """Shaded RGB, depth and instance-id images of one pinhole camera."""

    def __init__(self, cal: CameraCalibration, noise: NoiseConfig) -> None:
        self.cal, self.noise = cal, noise
        self.origins, self.dirs, self.cos_axis = camera_rays(cal)
        self.ground = _Ground(self.origins, self.dirs)
        fade = np.exp(-np.where(np.isfinite(self.ground.t), self.ground.t, 1e9) / 400.0)[:, None]
        self.sky = np.clip(np.array([0.62, 0.75, 0.90]) + 0.2 * self.dirs[:, 2:3], 0, 1).astype(np.float32)
        lut = np.array([GROUND_RGB[GRASS], GROUND_RGB[ROAD], GROUND_RGB[MARKING]], np.float32)
        # ground colour per ray and class, already faded into the sky with distance: (N, 3 classes, 3)
        self.ground_rgb = (lut[None] * fade[:, :, None] + self.sky[:, None, :] * (1 - fade[:, :, None])).astype(np.float32)

    def render(self, stamp: float, vehicles: SceneVehicles, texture: RoadTexture, raster: np.ndarray,
               rng: np.random.Generator) -> tuple[CameraFrame, np.ndarray]:
        """The frame and the vehicle index (or -1) seen at each pixel, (H*W,)."""
        hits = cast(vehicles, self.origins, self.dirs, CAMERA_RANGE_M, self._candidates(vehicles), self.ground.t)
        cls = self.ground.classes(hits, texture, raster)
        rgb = self._shade(hits, cls, vehicles)
        h, w = self.cal.height_px, self.cal.width_px
        depth = (hits.t_m * self.cos_axis).astype(np.float32).reshape(h, w)
        inst = np.where(hits.vehicle >= 0, vehicles.track_id[np.maximum(hits.vehicle, 0)] if len(vehicles) else 0, 0)
        img = self._noisy((rgb.reshape(h, w, 3) * 255.0).clip(0, 255).astype(np.uint8), rng)
        return CameraFrame(stamp, self.cal, img, depth, inst.reshape(h, w).astype(np.int32)), hits.vehicle

    def _candidates(self, vehicles: SceneVehicles) -> np.ndarray:
        """Pixels inside the image rectangle that bounds some vehicle's projected box."""
        h, w = self.cal.height_px, self.cal.width_px
        mask = np.zeros((h, w), bool)
        if not len(vehicles):
            return mask.ravel()
        corners = vehicles.corners()
        uv, z = self.cal.project(corners.reshape(-1, 3))
        uv, z = uv.reshape(-1, 8, 2), z.reshape(-1, 8)
        for i in range(len(vehicles)):
            if (z[i] <= 0.05).all():
                continue
            if (z[i] <= 0.05).any():  # straddles the image plane: be conservative
                mask[:] = True
                break
            u0, v0 = np.floor(uv[i].min(axis=0)).astype(int) - 1
            u1, v1 = np.ceil(uv[i].max(axis=0)).astype(int) + 1
            mask[max(v0, 0):max(min(v1, h), 0), max(u0, 0):max(min(u1, w), 0)] = True
        return mask.ravel()

    def _shade(self, hits: RayHits, cls: np.ndarray, vehicles: SceneVehicles) -> np.ndarray:
        rgb = np.where(hits.ground[:, None], self.ground_rgb[np.arange(len(cls)), cls], self.sky)
        veh = np.flatnonzero(hits.vehicle >= 0)
        if len(veh):
            lambert = np.abs(hits.normal[veh] @ LIGHT_DIR.astype(np.float32))[:, None]
            rgb[veh] = vehicles.color[hits.vehicle[veh]] * (0.35 + 0.65 * lambert)
        return rgb

    def _noisy(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.noise.camera_blur_px > 0:
            img = cv2.GaussianBlur(img, (0, 0), self.noise.camera_blur_px)
        if self.noise.camera_noise_std > 0:
            img = (img + rng.normal(0.0, self.noise.camera_noise_std, img.shape)).clip(0, 255).astype(np.uint8)
        return img


class LidarRenderer:
    """Point cloud (x, y, z, intensity, ring) of one spinning lidar, with occlusion and noise."""

    def __init__(self, cal: LidarCalibration, noise: NoiseConfig) -> None:
        self.cal, self.noise = cal, noise
        self.origins, self.dirs, self.d_sensor, self.ring = lidar_rays(cal)
        self.ground = _Ground(self.origins, self.dirs)
        self.n_az = len(cal.azimuths_rad())
        self.elev = cal.beam_elevations_rad()

    def _candidates(self, vehicles: SceneVehicles) -> np.ndarray:
        """Rays whose azimuth and elevation fall inside some vehicle's angular bounds."""
        mask = np.zeros((self.cal.n_beams, self.n_az), bool)
        if not len(vehicles):
            return mask.ravel()
        T_inv = np.linalg.inv(self.cal.T_ego_from_sensor)
        pts = vehicles.corners().reshape(-1, 3) @ T_inv[:3, :3].T + T_inv[:3, 3]
        pts = pts.reshape(-1, 8, 3)
        step = 2 * np.pi / self.n_az
        for p in pts:
            rng_xy = np.hypot(p[:, 0], p[:, 1])
            if rng_xy.min() < 3.0:  # too close for angular bounds: test every ray
                return np.ones(mask.size, bool)
            el = np.arctan2(p[:, 2], rng_xy)
            rows = (self.elev >= el.min() - 0.01) & (self.elev <= el.max() + 0.01)
            az = np.arctan2(p[:, 1], p[:, 0])
            centre = np.arctan2(np.sin(az).mean(), np.cos(az).mean())
            rel = np.angle(np.exp(1j * (az - centre)))
            cols = np.arange(int(np.floor((centre + rel.min() + np.pi) / step)) - 1,
                             int(np.ceil((centre + rel.max() + np.pi) / step)) + 2) % self.n_az
            mask[np.ix_(rows, cols)] = True
        return mask.ravel()

    def render(self, stamp: float, vehicles: SceneVehicles, texture: RoadTexture, raster: np.ndarray,
               rng: np.random.Generator) -> tuple[LidarFrame, np.ndarray]:
        """The sweep and the vehicle index (or -1) behind each returned point."""
        hits = cast(vehicles, self.origins, self.dirs, self.cal.max_range_m, self._candidates(vehicles), self.ground.t)
        keep = np.isfinite(hits.t_m)
        if self.noise.lidar_dropout > 0:
            keep &= rng.random(len(keep)) >= self.noise.lidar_dropout
        cls = self.ground.classes(hits, texture, raster)
        r = hits.t_m[keep].astype(np.float64)
        if self.noise.lidar_range_std_m > 0:
            r = np.maximum(r + rng.normal(0.0, self.noise.lidar_range_std_m, r.shape), 0.1)
        intensity = np.where(hits.vehicle >= 0, 0.3 + 0.5 * np.abs(np.sum(hits.normal * self.dirs, axis=1)),
                             np.array([GROUND_INTENSITY[k] for k in (GRASS, ROAD, MARKING)])[cls])[keep]
        xyz = self.d_sensor[keep] * r[:, None]
        pts = np.column_stack([xyz, intensity, self.ring[keep]]).astype(np.float32)
        return LidarFrame(stamp, self.cal, pts), hits.vehicle[keep]
