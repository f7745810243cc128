"""PDM-style scoring of hand-built rollouts: the collision gate, the TTC term, comfort."""
import numpy as np
import pytest

from planning.scoring import Rollouts, ScoringParams, first_collision_step, score

DT, K = 0.25, 20


def _rollout(stop_at_m: float | None, v0: float = 10.0) -> np.ndarray:
    """States (K+1, 4) along +x from the origin at ``v0``, braking evenly to stand at ``stop_at_m``."""
    t = np.arange(K + 1) * DT
    if stop_at_m is None:
        x, v = v0 * t, np.full(K + 1, v0)
    else:
        decel = v0 ** 2 / (2.0 * stop_at_m)
        t_stop = v0 / decel
        tc = np.minimum(t, t_stop)
        x, v = v0 * tc - 0.5 * decel * tc ** 2, np.maximum(v0 - decel * t, 0.0)
    return np.stack([x, np.zeros(K + 1), np.zeros(K + 1), v], axis=1)


def _rollouts(*stops) -> Rollouts:
    states = np.stack([_rollout(s) for s in stops])
    accel = np.diff(states[..., 3], axis=1) / DT
    b = len(stops)
    return Rollouts(states, accel, np.full((b, K + 1), -1.0), np.zeros(b, bool), np.ones(b, bool), DT)


def _parked_car(x_m: float) -> np.ndarray:
    """Predictions (1, K+1, 7) of a parked 5 m x 2 m car centred at (x_m, 0)."""
    return np.tile([x_m, 0.0, 0.0, 0.0, 0.0, 5.0, 2.0], (1, K + 1, 1))


def test_a_rollout_into_a_parked_car_is_gated_to_zero():
    r = _rollouts(None, 10.0)                          # drives on into the car at 30 m; stops at 10 m
    pred = _parked_car(30.0)
    first = first_collision_step(r, pred, 5.0, 2.0, 0.3)
    assert first[0] == int(np.ceil((30.0 - 5.0 - 0.3) / 10.0 / DT))  # bumpers meet (with the margin) at ~2.5 s
    assert first[1] == K + 1                                         # never
    total, terms = score(r, pred, 5.0, 2.0, np.ones(2), ScoringParams())
    assert total[0] == 0.0 and terms["collision"].tolist() == [True, False]
    assert total[1] > 0.5                              # the stopping rollout is the one to take


def test_closing_in_fast_costs_the_ttc_term_even_without_a_collision():
    # Both stop short of the car (rear at 27.5 m); one brakes late and stands 0.4 m behind it with a
    # time-to-collision under 1 s on the way, the other stops 12 m back.
    p = ScoringParams()
    r = _rollouts(24.6, 12.5)
    total, terms = score(r, _parked_car(30.0), 5.0, 2.0, np.ones(2), p)
    assert not terms["collision"].any()
    assert terms["ttc_ok"].tolist() == [False, True]
    weights = p.w_ttc + p.w_progress + p.w_comfort + p.w_lane_keep + p.w_route
    progress_gain = p.w_progress * (1.0 - terms["progress"][1]) / weights
    assert total[1] - total[0] == pytest.approx(p.w_ttc / weights - progress_gain + p.w_comfort
                                                * (float(terms["comfort"][1]) - float(terms["comfort"][0])) / weights)
