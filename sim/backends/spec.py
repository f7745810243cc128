"""Which execution backend a run uses (``Backend``), chosen on the command line."""
from __future__ import annotations

import os
from dataclasses import dataclass

BACKENDS = ("local", "ray")


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


@dataclass(frozen=True)
class Backend:
    """``local``: a process pool of this machine (no start-up cost). ``ray``: Ray tasks, on an embedded
    local Ray (``address`` None and no ``RAY_ADDRESS``) or on the cluster at ``address`` (HOST:PORT)."""

    kind: str = "local"
    workers: int | None = None
    """local: pool processes; embedded Ray: CPUs it may use (default: this machine's, up to 8). A
    cluster's size is its own."""
    address: str | None = None
    max_retries: int = 3
    """Ray: times a task is re-run after its worker process died (a task that raises is not retried)."""

    def __post_init__(self) -> None:
        if self.kind not in BACKENDS:
            raise ValueError(f"backend '{self.kind}' is not one of {', '.join(BACKENDS)}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"--workers must be >= 1, got {self.workers}")
        if self.address is not None and self.kind != "ray":
            raise ValueError(f"--address {self.address} joins a Ray cluster: use it with --backend ray")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")

    @property
    def pool_size(self) -> int:
        return self.workers or default_workers()


def as_backend(backend: Backend | int) -> Backend:
    """A ``Backend``; a bare worker count means the local pool with that many processes."""
    return backend if isinstance(backend, Backend) else Backend("local", workers=backend)
