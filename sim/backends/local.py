"""``run_parallel``: ``[fn(x) for x in items]`` on a backend (sequentially or on a process pool of this
machine, or as Ray tasks), with a progress bar; results keep the items' order whatever the completion
order."""
from __future__ import annotations

import multiprocessing as mp
from typing import Callable, Iterator, TypeVar

from tqdm import tqdm

from sim.backends.interrupt import raise_if_interrupted
from sim.backends.spec import Backend, as_backend
from sim.backends.worker import prepare_worker

T = TypeVar("T")
R = TypeVar("R")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during ``run_parallel``: ``results`` holds the items that finished, in item order."""

    def __init__(self, results: list) -> None:
        super().__init__(f"interrupted after {len(results)} finished")
        self.results = results


def run_parallel(fn: Callable[[T], R], items: list[T], backend: Backend | int = 1, desc: str = "",
                 unit: str = "it") -> list[R]:
    """``[fn(x) for x in items]`` on ``backend`` (a bare int: the local pool's size) with a progress
    bar; order is kept.

    Ctrl-C stops the workers quietly (they ignore SIGINT; the pool is terminated, Ray tasks are
    cancelled) and raises ``Interrupted`` with the results that finished, so the caller can keep them.
    """
    backend = as_backend(backend)
    bar = tqdm(total=len(items), desc=desc, unit=unit, dynamic_ncols=True)
    results: list = [None] * len(items)
    done = [False] * len(items)
    try:
        for i, value in _iterate(fn, items, backend):
            results[i], done[i] = value, True
            bar.update(1)
            raise_if_interrupted()  # a Ctrl-C that a finaliser swallowed (sim.backends.interrupt)
    except KeyboardInterrupt:
        raise Interrupted([r for r, d in zip(results, done) if d]) from None
    finally:
        bar.close()
    return results


def _iterate(fn: Callable, items: list, backend: Backend) -> Iterator[tuple[int, object]]:
    if backend.kind == "ray":
        from sim.backends.ray_backend import iterate_ray

        yield from iterate_ray(fn, items, backend)
        return
    workers = backend.pool_size
    if workers <= 1 or len(items) <= 1:
        for i, item in enumerate(items):
            yield i, fn(item)
        return
    # forkserver: workers start from a clean process. Forking this one is not safe once it has run
    # torch (a loaded policy, a first episode with the networks): the children inherit a thread
    # pool that no longer exists and hang on their first parallel op.
    ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    with ctx.Pool(processes=workers, initializer=prepare_worker) as pool:
        yield from pool.imap_unordered(_Indexed(fn), list(enumerate(items)), chunksize=1)


class _Indexed:
    """Picklable wrapper that tags each result with its item's index."""

    def __init__(self, fn: Callable) -> None:
        self.fn = fn

    def __call__(self, item: tuple[int, object]) -> tuple[int, object]:
        return item[0], self.fn(item[1])
