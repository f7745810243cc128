"""The tracker's settings (``TrackerConfig``, SI units) and its named presets."""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from fusion.sensor_model import DEFAULT_SENSORS, SensorModel
from perception.lookup import Registry


@dataclass(frozen=True)
class TrackerConfig:
    """Tracker parameters (SI units)."""

    accel_along_std_mps2: float = 2.0
    """White-acceleration process noise along the track heading [m/s^2]."""
    accel_across_std_mps2: float = 2.0
    """White-acceleration process noise across the track heading [m/s^2]."""
    init_speed_std_mps: float = 15.0
    """Velocity std of a new track around its prior, the ego's velocity [m/s]."""
    gate_chi2: float = 13.82
    """Mahalanobis gate on d^2, chi-square with 2 dof (13.82: 99.9 %)."""
    overlap_gate_giou: float = 0.0
    """A pair outside the Mahalanobis gate is still allowed when the boxes' BEV generalised IoU
    exceeds this (> 1: never)."""
    overlap_weight: float = 2.0
    """Weight of (1 - GIoU) in the association cost."""
    inflate_chi2: float = 9.21
    """Innovations with d^2 above this (99 %) inflate the predicted covariance by d^2 / inflate_chi2
    before the update (adaptive process noise for manoeuvres and sensor-frame motion)."""
    max_inflation: float = 50.0
    noise_adapt_rate: float = 0.03
    """Pace of each source's online covariance factor: every associated confident detection moves the
    factor's log by half this, up when its NIS is above the chi-square median and down when below
    (``fusion.noise_scale.NoiseScale``: it widens a degraded sensor's covariance until its median NIS is
    calibrated again; 0: the offline calibration only)."""
    min_spawn_score: float = 0.5
    """Detections scoring below this are associated in the second pass; they start a track (if their
    source's ``birth_score`` allows) only ``weak_birth_clearance_m`` away from every track."""
    weak_birth_clearance_m: float = 6.0
    """A weak detection this close to a track is a poorly placed return of that vehicle, not a new one [m]."""
    spawn_exclusion_chi2: float = 25.0
    """An unmatched detection within this d^2 of a track (or overlapping its box) starts no track."""
    output_existence: float = 0.5
    """Tracks at or above this existence are output (and may hide other tracks from the sensors)."""
    unconfirmed_frames: int = 10
    """A track is withheld after this many frames of a confirming source (one with ``confirms``) that
    should have seen it (detection probability over 0.5 there) without a confident detection of it (a
    weak one counts only for a track that source once confirmed), until that source detects it again:
    a non-confirming source (the camera) carries a track through the confirming one's misses and
    blackouts, but cannot alone keep one alive under its eyes."""
    confirming_frame_s: float = 0.15
    """A non-confirming source (the camera) starts no track where a confirming one (the lidar) that
    delivered a frame this recently could have seen a vehicle [s]; in a blackout of the confirming
    source it starts tracks everywhere."""
    watched_rate: float = 0.5
    """... could have seen it: its online detection rate there is above this. Lower values make the camera
    wait for the lidar where the lidar sees cars only now and then: 0.15 raised held-out thinned-lidar MOTA
    from 0.9651 to 0.9676, but with the full lidar it also held back the camera's early tracks at 50-60 m
    (lidar rate 0.24 there), and closed-loop comfort with perception fell from 0.82 to 0.72 on 50 highway
    seeds (emergency braking on cars first tracked late)."""
    delete_existence: float = 0.05
    survival_per_s: float = 0.99
    """Existence kept per second without evidence."""
    max_coast_s: float = 3.0
    """A track unseen for longer than this is deleted [s]."""
    output_coast_s: float = 1.5
    """A coasting track is output for at most this long after its last detection [s]."""
    output_coast_var_m2: float = 1.0
    """... and only while the largest eigenvalue of its position covariance stays under this [m^2]: a
    track whose velocity is poorly known (young, or fed by a few weak detections) drifts when it coasts."""
    coast_score: float = 0.01
    """A coasting output's ``score`` is its existence times this (a detected one's: times its
    detection's score), so a box that is only predicted ranks below the detected ones."""
    max_position_var_m2: float = 100.0
    """... or when the largest eigenvalue of its position covariance exceeds this [m^2] (a camera-only
    track at 60 m is born with ~30 m^2 along the viewing ray)."""
    heading_min_speed_mps: float = 1.0
    """Above this speed (and twice its std) the velocity heading resolves the detector's pi-ambiguity
    in yaw and orients the process noise [m/s]."""
    sensors: tuple[SensorModel, ...] = DEFAULT_SENSORS
    default_sensor: SensorModel = field(default_factory=lambda: SensorModel("other"))
    """Model of a source not listed in ``sensors``."""

    def sensor(self, source: str) -> SensorModel:
        for model in self.sensors:
            if model.source == source:
                return model
        return replace(self.default_sensor, source=source)


PRESETS = {
    "ego_motion": TrackerConfig(),
    "sensor_frame": TrackerConfig(accel_along_std_mps2=10.0, accel_across_std_mps2=10.0, output_coast_s=0.2,
                                  output_coast_var_m2=4.0, max_coast_s=1.5),
}
"""Named settings: ``ego_motion`` (default) when the ego pose is known (simulation, replay); ``sensor_frame``
when detections come in a frame that moves with the car and no ego motion is given (KITTI): parked
cars then appear to accelerate whenever the car does (15-30 m/s^2 in turns), hence the larger process
noise, and a coasting track's prediction drifts with the camera's own turn, hence the short coasting
output (0.2 s instead of 1.5 s, with a position-variance limit scaled to the larger process noise) and
deletion after 1.5 s unseen instead of 3 s."""


TRACKER_PRESETS = Registry("tracker preset", PRESETS)


def with_preset(preset: str, config: TrackerConfig = TrackerConfig()) -> TrackerConfig:
    """The named preset, with every field of ``config`` that differs from the defaults on top (so
    explicit settings win over the preset's)."""
    base, default = TRACKER_PRESETS[preset], TrackerConfig()
    return replace(base, **{f.name: getattr(config, f.name) for f in fields(TrackerConfig)
                            if getattr(config, f.name) != getattr(default, f.name)})
