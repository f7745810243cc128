"""The Ray backend gives the local pool's answers, survives a killed worker, fails once on a real
error, and spreads tasks over the nodes of a cluster (Ray's in-process two-node cluster)."""
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from sim.backends import Backend, run_parallel  # noqa: E402
from sim.cli.main import main  # noqa: E402

ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import a test module


@pytest.fixture
def fresh_ray():
    ray.shutdown()
    yield
    ray.shutdown()


@pytest.fixture(scope="module", autouse=True)
def _no_ray_left_behind():
    """The tests without ``fresh_ray`` share one embedded Ray (the backend reuses a live one: each start
    costs 10-20 s on 2 cores); it goes down with the module, before other modules fork pools."""
    yield
    ray.shutdown()


def _square(x: int) -> int:
    time.sleep(0.05 * (x % 3))  # finish out of order
    return x * x


class _SlowFirstAttempt:
    """Item 0's first attempt writes its pid and waits to be killed; every later attempt returns."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, x: int) -> int:
        attempts = len(list(self.folder.glob(f"{x}-*")))
        (self.folder / f"{x}-{os.getpid()}-{attempts}").touch()
        if x == 0 and attempts == 0:
            time.sleep(60)
        return x + 100


def _fails_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("scenario.env.lanes_count: bad value for episode 3")
    return x


def _node(_: int) -> str:
    time.sleep(0.5)  # long enough that one node cannot take every task
    return ray.get_runtime_context().get_node_id()


def test_ray_gives_the_local_results_in_item_order():
    items = list(range(9))
    assert run_parallel(_square, items, Backend("ray", workers=2)) == run_parallel(_square, items, Backend("local", 2))
    assert run_parallel(_square, items, Backend("ray", workers=2)) == [x * x for x in items]


def test_a_killed_worker_is_retried_and_the_run_completes(tmp_path):
    def kill_first_attempt():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            started = list(tmp_path.glob("0-*-0"))
            if started:
                os.kill(int(started[0].name.split("-")[1]), signal.SIGKILL)
                return
            time.sleep(0.1)

    killer = threading.Thread(target=kill_first_attempt)
    killer.start()
    results = run_parallel(_SlowFirstAttempt(tmp_path), list(range(4)), Backend("ray", workers=2, max_retries=2))
    killer.join()
    assert results == [100, 101, 102, 103]
    assert len(list(tmp_path.glob("0-*"))) == 2  # killed once, run again on a new worker


def test_a_task_that_raises_fails_the_run_once_with_its_own_error():
    with pytest.raises(ValueError, match="episode 3"):
        run_parallel(_fails_on_three, list(range(6)), Backend("ray", workers=2))


def test_simulate_on_ray_writes_the_same_metrics_json_as_the_local_pool(tmp_path, capsys):
    runs = {}
    for backend, workers in (("local", "1"), ("ray", "2")):  # the reference runs in this process, Ray in its workers
        out = tmp_path / f"{backend}.json"
        code = main(["simulate", "--episodes", "3", "--seed", "40", "--workers", workers, "--backend", backend,
                     "--set", "scenario.duration_s=2", "--json", str(out)])
        assert code == 0
        runs[backend] = json.loads(out.read_text())
    # the loop's tick-time diagnostics measure the machine's load, not the episodes: compared apart
    timing = {b: r.pop("diagnostics") for b, r in runs.items()}
    assert runs["ray"] == runs["local"]
    assert [e["seed"] for e in runs["ray"]["episodes"]] == [40, 41, 42]
    untimed = {b: {m: v for m, v in d["modules"].items() if m != "loop"} for b, d in timing.items()}
    assert untimed["ray"] == untimed["local"] and {"planner", "tracker", "controller"} <= set(untimed["ray"])
    assert timing["ray"]["ticks"] == timing["local"]["ticks"] == 60


def test_tasks_land_on_both_nodes_of_a_cluster(fresh_ray):
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    try:
        nodes = run_parallel(_node, list(range(8)), Backend("ray", address=cluster.address))
        assert len(set(nodes)) == 2
    finally:
        ray.shutdown()
        cluster.shutdown()


def test_without_an_address_it_starts_its_own_ray_beside_a_running_cluster(fresh_ray):
    # a cluster started on this machine (like `ray start`) is where Ray's own default would connect
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        assert run_parallel(_square, list(range(4)), Backend("ray", workers=2)) == [0, 1, 4, 9]
        assert ray.cluster_resources()["CPU"] == 2  # the embedded instance, not the 1-CPU cluster
    finally:
        ray.shutdown()
        cluster.shutdown()
