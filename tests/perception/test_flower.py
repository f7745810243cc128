"""Federated training on Flower's simulation engine (Ray): 2 rounds, 2 training clients and one with
no data, on the tiny data set; what crosses the client boundary is parameter arrays only."""
import os

import numpy as np
import pytest

from perception.federated import Learner, LearnerSpec, Shard
from perception.flower import FederatedConfig, run_federated
from perception.lidar_detector import load_lidar_net

SCALARS = (bool, int, float, str)


@pytest.fixture(scope="module")
def run(tiny_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("fleet")
    spec = LearnerSpec("lidar", str(tiny_data), str(tiny_data), batch_size=2, max_val_frames=1)
    shards = (Shard("a", ("highway",)), Shard("b", ("highway",), "noisy"), Shard("empty", ("roundabout",)))
    before = os.environ.get("PYTHONPATH")
    cfg = FederatedConfig(spec, shards, rounds=2, strategy="fedprox", lr=1e-3, local_epochs=0.5, keep_optimizer=True,
                          pool_batchnorm=True)
    result = run_federated(cfg, out)
    # Flower's Ray backend sets PYTHONPATH for the whole process; later subprocesses (the wheel test)
    # would import this checkout instead of what they installed
    assert os.environ.get("PYTHONPATH") == before
    return result, out, spec


def test_rounds_run_validate_and_checkpoint(run):
    result, out, _ = run
    assert [h["round"] for h in result["history"]] == [1, 2] and sorted(result["frames"]) == [0, 1, 2]
    assert all(0.0 <= h["val_ap_2m"] <= 1.0 for h in result["history"])
    for name in ("round_01.pt", "round_02.pt", "best.pt"):
        load_lidar_net(out / name, "cpu")  # the format every consumer of lidar weights loads
    assert (out / "metrics.csv").read_text().count("\n") == 3
    # each client kept its optimiser on its own side (never in a message: see the boundary test)
    assert sorted(p.parent.name for p in (out / "clients").glob("*/optimizer.pt")) == ["a", "b"]


def test_a_client_without_data_is_reported_in_one_line_and_the_round_goes_on(run):
    skipped = run[0]["ledger"].skipped
    assert skipped == [f"round {r}: client empty skipped: no training frames" for r in (1, 2)]


def test_only_parameter_arrays_cross_the_client_boundary(run):
    from flwr.common import parameters_to_ndarrays

    result, _, spec = run
    shapes = [tuple(t.shape) for t in Learner(spec).net.state_dict().values()]
    ledger = result["ledger"]
    assert [d for d, _ in ledger.crossed] == ["down"] * 3 + ["up"] * 3 + ["down"] * 3 + ["up"] * 3
    for direction, message in ledger.crossed:
        arrays = parameters_to_ndarrays(message.parameters)
        assert [a.shape for a in arrays] == shapes and all(isinstance(a, np.ndarray) for a in arrays)
        payload = sum(len(t) for t in message.parameters.tensors)
        assert payload <= sum(a.nbytes for a in arrays) + 256 * len(arrays)  # arrays and their headers, nothing else
        extra = message.config if direction == "down" else message.metrics
        assert all(isinstance(v, SCALARS) and len(str(v)) < 400 for v in extra.values())
    assert all(message.num_examples in (0, 1, 2) for d, message in ledger.crossed if d == "up")
    per_round = 3 * sum(len(t) for t in ledger.crossed[0][1].parameters.tensors)
    assert ledger.bytes_down == {1: per_round, 2: per_round} and ledger.bytes_up == {1: per_round, 2: per_round}


@pytest.mark.parametrize("server_lr, expected_weight", [(1.0, 1.0), (2.0, 2.0)])
def test_the_server_steps_server_lr_times_the_mean_update_of_the_weights_and_averages_buffers(server_lr, expected_weight):
    from perception.flower import Ledger, _strategy

    cfg = FederatedConfig(LearnerSpec("lidar", "d", "d"), (Shard("a", ("highway",)),), rounds=1, server_lr=server_lr)
    initial = [np.zeros(2, np.float32), np.ones(2, np.float32)]
    strategy = _strategy(cfg, Ledger(), None, initial, trainable=[True, False])
    weight, buffer = strategy.server_step([np.ones(2, np.float32), np.full(2, 0.25, np.float32)])
    np.testing.assert_allclose(weight, expected_weight)
    np.testing.assert_allclose(buffer, 0.25)
    assert weight.dtype == np.float32
    weight, _ = strategy.server_step([np.full(2, expected_weight + 1.0, np.float32), buffer])
    np.testing.assert_allclose(weight, expected_weight + server_lr)
