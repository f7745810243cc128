"""A Ctrl-C that lands in a finaliser is dropped by Python; the CLI's handler keeps it."""
import signal
import warnings

import pytest

from sim.backends import Interrupted, run_parallel
from sim.backends.interrupt import keep_ctrl_c, raise_if_interrupted


class _CtrlCInFinaliser:
    """Ctrl-C arriving while this object's ``__del__`` runs (as when an episode's objects are torn down)."""

    def __del__(self):
        signal.raise_signal(signal.SIGINT)  # the handler runs here; Python drops what it raises


def _drop_one():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pytest reports the dropped exception as an unraisable warning
        _CtrlCInFinaliser()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_python_alone_loses_a_ctrl_c_that_lands_in_a_finaliser():
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _drop_one()  # no KeyboardInterrupt reaches this frame: the run would go on
    raise_if_interrupted()  # and nothing recorded it outside keep_ctrl_c


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_keep_ctrl_c_records_it_and_restores_the_previous_handler():
    before = signal.getsignal(signal.SIGINT)
    with keep_ctrl_c():
        _drop_one()
        with pytest.raises(KeyboardInterrupt):
            raise_if_interrupted()
    assert signal.getsignal(signal.SIGINT) is before
    raise_if_interrupted()  # cleared on leaving: a later command in the same process starts afresh


def test_a_process_that_ignores_ctrl_c_keeps_ignoring_it():
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with keep_ctrl_c():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def _item(k: int) -> int:
    if k == 1:
        _drop_one()
    return 10 * k


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_run_parallel_stops_after_the_item_during_which_ctrl_c_was_dropped():
    with keep_ctrl_c(), pytest.raises(Interrupted) as stop:
        run_parallel(_item, list(range(5)), 1)
    assert stop.value.results == [0, 10]
