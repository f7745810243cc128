"""The Ray execution backend: one Ray task per item, on an embedded local Ray or a running cluster.

A task whose worker process dies (killed, out of memory, node lost) is re-run up to
``Backend.max_retries`` times; a task that raises (a bad config) fails the run once, with the task's
own exception and no remote traceback. Every node of a cluster needs drivestack installed (the same
version): tasks import ``sim`` there."""
from __future__ import annotations

import logging
import os
from typing import Callable, Iterator

from sim.backends.spec import Backend
from sim.backends.worker import prepare_worker

_prepared = False


def _ray():
    try:
        import ray
    except ImportError:
        raise ValueError("--backend ray needs the 'ray' package: pip install 'ray[tune]>=2.9'") from None
    return ray


def connect(backend: Backend) -> None:
    """Start an embedded Ray (no address and no RAY_ADDRESS) or join a cluster; reuse a live one."""
    ray = _ray()
    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_IGNORE_UNHANDLED_ERRORS", "1")  # cancelled tasks after Ctrl-C or a failure
    address = backend.address or os.environ.get("RAY_ADDRESS") or None
    # "local": a new embedded instance. With None, Ray would join the last cluster `ray start` left on
    # this machine (/tmp/ray/ray_current_cluster), and fail there on num_cpus
    where = {"address": address} if address else {"address": "local", "num_cpus": backend.pool_size}
    try:
        ray.init(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR, **where)
    except ConnectionError as exc:
        raise ValueError(f"cannot join the Ray cluster at {address}: {exc}") from None


def _run(fn: Callable, item):
    """One task, in a Ray worker process: prepared like a local pool worker on its first task."""
    global _prepared
    if not _prepared:
        prepare_worker()
        _prepared = True
    return fn(item)


def iterate_ray(fn: Callable, items: list, backend: Backend) -> Iterator[tuple[int, object]]:
    """(index, result) of every item as its task finishes; the rest are cancelled if this stops early."""
    ray = _ray()
    connect(backend)
    task = ray.remote(num_cpus=1, max_retries=backend.max_retries)(_run)
    fn_ref = ray.put(fn)
    pending = {task.remote(fn_ref, item): i for i, item in enumerate(items)}
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            i = pending.pop(done[0])
            yield i, _result(ray, done[0])
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)


def _result(ray, ref):
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:  # the task raised: its own exception, not Ray's wrapper
        raise exc.cause from None
    except ray.exceptions.WorkerCrashedError:  # one line from the CLI, like any run-stopping problem
        raise ValueError("a Ray task's worker died more often than max_retries allows (out of memory? a lost "
                         "node?)") from None
