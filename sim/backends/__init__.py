"""Where work runs: the local process pool (``run_parallel``)."""
from sim.backends.local import default_workers, run_parallel

__all__ = ["default_workers", "run_parallel"]
