"""What every worker process does first, on the local pool and on Ray."""
from __future__ import annotations

import os


def prepare_worker() -> None:
    """One torch thread per worker: the workers already use every core. Workers ignore Ctrl-C: the
    parent handles it and stops them (no traceback from every worker)."""
    import signal

    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
