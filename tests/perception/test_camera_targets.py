"""Image-plane targets of the camera detector: encode -> decode round trip, flip symmetry."""
import numpy as np

from perception.calibration import CameraCalibration, intrinsics, mount_transform
from perception.camera_data import mirror
from perception.camera_targets import CameraInput, decode_image, encode_image, mirror_symmetric
from perception.frames import BoxLabels

GEO = CameraInput()


def _camera(y_m: float = 0.0) -> CameraCalibration:
    return CameraCalibration("front", intrinsics(320, 160, np.deg2rad(90.0)), 320, 160,
                             mount_transform((1.0, y_m, 1.4), pitch_rad=np.deg2rad(2.0), optical=True))


def _labels() -> BoxLabels:
    center = np.array([[12.0, 0.3, 0.8], [35.0, -4.0, 0.8], [48.0, 3.9, 0.8], [-20.0, 0.0, 0.8]])
    n = len(center)
    return BoxLabels(np.arange(n), center, np.tile([5.0, 2.0, 1.6], (n, 1)), np.array([0.05, -0.1, 3.1, 0.0]),
                     np.zeros((n, 2)), np.zeros(n), np.array([[1.0], [0.6], [0.3], [0.0]]))


def _decode_targets(targets, cal):
    h, w = GEO.out_shape
    heat = np.zeros(h * w, np.float32)
    heat[targets.index] = 1.0
    reg = np.zeros((8, h * w), np.float32)
    reg[:, targets.index] = targets.regression.T
    return decode_image(heat.reshape(h, w), reg.reshape(8, h, w), cal, GEO, threshold=0.5)


def test_encode_decode_round_trip_recovers_visible_boxes():
    labels, cal = _labels(), _camera()
    targets = encode_image(labels, cal, 0, GEO)
    assert len(targets.index) == 3  # the car behind is not visible
    boxes = _decode_targets(targets, cal)
    order = np.argsort(boxes["center_m"][:, 0])
    assert np.allclose(boxes["center_m"][order], labels.center_m[:3], atol=1e-6)
    assert np.allclose(boxes["size_m"], [5.0, 2.0, 1.6])
    # heading modulo pi, resolved towards the ego's direction: 3.1 rad comes back as 3.1 - pi
    assert np.allclose(np.sort(boxes["yaw_rad"]), np.sort([0.05, -0.1, 3.1 - np.pi]), atol=1e-6)


def test_heatmap_peaks_are_one_and_spread_with_box_size():
    targets = encode_image(_labels(), _camera(), 0, GEO)
    assert np.allclose(targets.heatmap.ravel()[targets.index], 1.0)
    near, far = targets.index[0], targets.index[1]
    h, w = GEO.out_shape
    r, c = divmod(int(near), w)
    assert targets.heatmap[r, c + 1] > 0.5  # the 12 m car spreads over neighbouring cells
    r, c = divmod(int(far), w)
    assert targets.heatmap[r, min(c + 2, w - 1)] < 0.2


def test_mirroring_the_scene_mirrors_the_heatmap_on_a_centred_camera():
    cal = _camera()
    assert mirror_symmetric(cal) and not mirror_symmetric(_camera(y_m=0.5))
    a = encode_image(_labels(), cal, 0, GEO).heatmap
    b = encode_image(mirror(_labels()), cal, 0, GEO).heatmap
    assert np.abs(a[:, ::-1] - b).max() < 0.05
