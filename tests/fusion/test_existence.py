"""Track existence: hit and miss updates, occlusion, online detection rates."""
import numpy as np

from fusion import existence as ex
from fusion.kernels import visibility


def test_hits_raise_and_misses_lower_existence_by_the_odds_rule():
    r = np.array([0.5])
    assert np.isclose(ex.after_hit(r, np.array([3.0]))[0], 0.75)  # odds 1 -> 3
    assert np.isclose(ex.after_miss(r, np.array([0.9]))[0], 0.5 * 0.1 / (1 - 0.45))
    assert ex.after_miss(r, np.array([0.0]))[0] == 0.5  # a sensor that cannot see it says nothing
    assert ex.after_hit(np.array([ex.R_MAX]), np.array([1e9]))[0] <= ex.R_MAX


def test_a_car_behind_a_nearer_one_is_hidden_but_one_beside_it_is_not():
    rel = np.array([[20.0, 0.0], [40.0, 0.0], [20.0, 10.0]])
    vis = visibility(rel, np.full(3, 2.5), np.ones(3, bool))
    assert vis[0] == 1.0 and vis[2] == 1.0
    assert vis[1] < 0.2
    assert visibility(rel, np.full(3, 2.5), np.array([False, True, True]))[1] == 1.0  # unsure tracks hide nothing


def test_detection_rate_moves_from_its_table_towards_what_the_sensor_does():
    rate = ex.DetectionRate(np.array([0.9, 0.9]), prior_looks=10)
    for _ in range(90):
        rate.add(np.array([0, 1]), np.array([True, False]))
    p = rate.probability(np.array([0, 1]))
    assert p[0] > 0.98 and p[1] < 0.1
