"""A Ctrl-C that is never lost.

Python raises ``KeyboardInterrupt`` in whatever Python code runs when SIGINT arrives. When that code
is a finaliser (an object's ``__del__`` or a weakref callback, which run whenever the last reference
to an object goes, e.g. as one episode's simulator is torn down), Python prints "Exception ignored"
and drops the exception: the run goes on as if no Ctrl-C had come. ``keep_ctrl_c`` installs a
handler that also records the request, and the long loops call ``raise_if_interrupted`` at safe
points (between work items, between ticks), so a dropped interrupt still stops the run there.
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_requested = threading.Event()


def _on_sigint(signum, frame) -> None:
    _requested.set()
    raise KeyboardInterrupt


def raise_if_interrupted() -> None:
    """Raise ``KeyboardInterrupt`` if Ctrl-C came while ``keep_ctrl_c`` was active (even if dropped)."""
    if _requested.is_set():
        raise KeyboardInterrupt


@contextmanager
def keep_ctrl_c() -> Iterator[None]:
    """Within the block, Ctrl-C is recorded as well as raised (main thread only; a process that
    ignores SIGINT, such as a pool worker or a background job, keeps ignoring it)."""
    _requested.clear()
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main else None
    install = main and previous not in (signal.SIG_IGN, None)
    if install:
        signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        if install:
            signal.signal(signal.SIGINT, previous)
        _requested.clear()
