"""Property-based tests (hypothesis): the config parser and the log reader, fed random input, never
raise anything but the project's own error (ValueError, reported as one line by the CLI)."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import record_log

from sim.loop.setup import load_controller_config, load_planner_config, split_overrides

KEYS = ["planner.horizon_s", "planner.dt_s", "planner.speed_factors", "planner.idm.min_gap_m", "planner.scoring.w_ttc",
        "planner.hysteresis", "planner.nope", "controller.dt_s", "controller.vehicle.max_jerk_mps3",
        "controller.speed_pid", "scenario.env.lanes_count", "sensors.faults.drop_probability", "bogus", ""]
VALUES = st.one_of(st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                   st.text(max_size=12), st.sampled_from(["[]", "[1, -1]", "{a: 1}", "null", "true", "[[", "'x"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(["=", ":", ""]), VALUES), max_size=4))
def test_random_overrides_give_a_config_or_a_value_error(items):
    overrides = [f"{k}{sep}{v}" for k, sep, v in items]
    try:
        sections = split_overrides(overrides)
        load_planner_config(sections["planner"])
        load_controller_config(sections["controller"])
    except ValueError:
        pass


@pytest.fixture(scope="module")
def small_log(tmp_path_factory):
    return record_log(tmp_path_factory.mktemp("prop") / "run.mcap", "ground_truth", 1, seed=3).read_bytes()


DAMAGE = st.lists(st.tuples(st.sampled_from(["flip", "cut", "insert", "zero"]), st.floats(0.0, 1.0),
                            st.integers(1, 512)), min_size=1, max_size=4)


def _damaged(data: bytes, damage) -> bytes:
    out = bytearray(data)
    for kind, where, n in damage:
        i = int(where * max(len(out) - 1, 0))
        if kind == "flip":
            out[i:i + n] = bytes(b ^ 0x5A for b in out[i:i + n])
        elif kind == "cut":
            del out[i:]
        elif kind == "insert":
            out[i:i] = bytes(range(256))[:n]
        else:
            out[i:i + n] = bytes(len(out[i:i + n]))
    return bytes(out)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(DAMAGE)
def test_random_damage_to_a_log_is_reported_never_raised(small_log, tmp_path_factory, damage):
    from sim.logs.reader import McapLog

    path = tmp_path_factory.mktemp("dmg") / "d.mcap"
    path.write_bytes(_damaged(small_log, damage))
    try:
        log = McapLog(path)
    except ValueError:
        return  # not an MCAP any more (magic gone, empty): refused with one message
    with log:
        for message in log.messages():
            assert isinstance(message.data, bytes)
        assert all(isinstance(issue, str) for issue in log.issues)
