"""Where work runs: ``run_parallel`` on a ``Backend``, the local process pool (default) or Ray."""
from sim.backends.local import Interrupted, run_parallel
from sim.backends.spec import BACKENDS, Backend, as_backend, default_workers

__all__ = ["BACKENDS", "Backend", "Interrupted", "as_backend", "default_workers", "run_parallel"]
