"""Fleet shards, parameter exchange and the client's local step (no Flower, no Ray)."""
import json
import math

import numpy as np
import pytest
import torch

from perception.federated import (Degraded, Learner, LearnerSpec, Shard, batchnorm_pairs, cosine_lr, fleet, get_arrays,
                                  local_train, partition, pooled_batchnorm, set_arrays)
from perception.flower import FleetClient


def rows(scenario, seed, n=2):
    return [{"path": f"{scenario}_{seed}_{t}.npz", "split": "train", "scenario": scenario, "seed": seed, "tick": t}
            for t in range(n)]


def test_partition_is_non_iid_disjoint_and_keeps_episodes_whole():
    data = rows("highway", 1) + rows("highway", 2) + rows("roundabout", 3) + rows("merge", 4) + rows("highway", 5)
    shards = (Shard("a", ("highway",)), Shard("b", ("roundabout",)), Shard("c", ("highway", "merge")))
    parts = partition(data, shards)
    assert [sorted({r["seed"] for r in p}) for p in parts] == [[1, 5], [3], [2, 4]]
    assert sum(len(p) for p in parts) == len(data)
    assert partition(rows("exit", 9), shards) == [[], [], []]  # no client drives exits


def test_default_fleet_degrades_the_sensor_of_the_model():
    assert [s.condition for s in fleet(5, "lidar")].count("noisy") == 1
    assert [s.condition for s in fleet(5, "camera")].count("dim") == 1
    assert len({s.name for s in fleet(7, "lidar")}) == 7


def test_arrays_round_trip_and_a_wrong_count_is_an_error():
    a, b = Learner(LearnerSpec("lidar", "x", "x", seed=0)), Learner(LearnerSpec("lidar", "x", "x", seed=1))
    set_arrays(b.net, get_arrays(a.net))
    assert all(torch.equal(x, y) for x, y in zip(a.net.state_dict().values(), b.net.state_dict().values()))
    with pytest.raises(ValueError, match="parameter arrays"):
        set_arrays(b.net, get_arrays(a.net)[:-1])


def test_degraded_conditions_change_the_sensor_not_the_targets():
    image = np.full((80, 320, 3), 200, np.uint8)
    dim = Degraded([(image, "targets")], "dim")[0]
    assert dim[0].mean() < 80 and dim[1] == "targets"
    points = np.zeros((1000, 4), np.float32)
    noisy = Degraded([(points, "targets")], "noisy")[0]
    assert 600 < len(noisy[0]) < 800 and 0.05 < noisy[0][:, :3].std() < 0.11
    with pytest.raises(ValueError, match="unknown sensor condition"):
        Degraded([], "foggy")


def test_cosine_schedule():
    assert cosine_lr(1.0, 0, 4) == 1.0 and cosine_lr(1.0, 2, 4) == pytest.approx(0.5)


def test_fedprox_term_keeps_local_weights_nearer_the_global_ones(tiny_data):
    spec = LearnerSpec("lidar", str(tiny_data), str(tiny_data), batch_size=2)
    train = [r for r in json.loads((tiny_data / "manifest.json").read_text())["frames"] if r["split"] == "train"]
    moved = {}
    for mu in (0.0, 100.0):
        learner = Learner(spec)
        start = [p.detach().clone() for p in learner.net.parameters()]
        local_train(learner, learner.loader(learner.dataset(train)), 2, 3e-2, proximal_mu=mu)
        moved[mu] = sum(float(((p.detach() - s) ** 2).sum()) for p, s in zip(learner.net.parameters(), start))
    assert moved[100.0] < moved[0.0]


def test_client_with_no_data_or_a_corrupt_shard_trains_nothing_and_says_why(tiny_data, tmp_path):
    spec = LearnerSpec("lidar", str(tmp_path), str(tiny_data), batch_size=2)
    arrays = get_arrays(Learner(spec).net)
    config = {"lr": 1e-3, "local_epochs": 1}
    out, n, metrics = FleetClient(spec, Shard("empty", ("highway",)), []).fit(arrays, config)
    assert n == 0 and out is arrays and metrics == {"client": "empty", "error": "no training frames"}
    (tmp_path / "bad.npz").write_bytes(b"not a zip file")
    _, n, metrics = FleetClient(spec, Shard("bad", ("highway",)), [{"path": "bad.npz", "split": "train"}]).fit(arrays, config)
    assert n == 0 and "cannot read sensor frame" in metrics["error"] and "\n" not in metrics["error"]


def test_a_fraction_of_an_epoch_trains_that_share_of_the_batches_and_the_optimiser_can_continue(tiny_data):
    spec = LearnerSpec("lidar", str(tiny_data), str(tiny_data), batch_size=1)
    train = [r for r in json.loads((tiny_data / "manifest.json").read_text())["frames"] if r["split"] == "train"]
    learner = Learner(spec)
    loader = learner.loader(learner.dataset(train))
    _, state = local_train(learner, loader, 0.5, 1e-3)
    assert state["state"][0]["step"] == math.ceil(0.5 * len(loader))
    _, state = local_train(learner, loader, 1.5, 1e-3)
    assert state["state"][0]["step"] == math.ceil(1.5 * len(loader))
    _, state = local_train(learner, loader, 1e-6, 1e-3, optimizer_state=state)
    assert state["state"][0]["step"] == math.ceil(1.5 * len(loader)) + 1
    assert state["param_groups"][0]["lr"] == 1e-3


def test_a_client_that_keeps_its_optimiser_resumes_it_next_round(tiny_data, tmp_path):
    spec = LearnerSpec("lidar", str(tiny_data), str(tiny_data), batch_size=2)
    train = [r for r in json.loads((tiny_data / "manifest.json").read_text())["frames"] if r["split"] == "train"]
    client = FleetClient(spec, Shard("car", ("highway",)), train, state_dir=tmp_path / "car")
    arrays = get_arrays(Learner(spec).net)
    for rnd in (1, 2):
        arrays, n, _ = client.fit(arrays, {"lr": 1e-3, "local_epochs": 1, "round": rnd})
        steps = torch.load(tmp_path / "car" / "optimizer.pt")["state"][0]["step"]
        assert n == len(train) and steps == rnd * math.ceil(len(train) / 2)


def test_pooled_batchnorm_statistics_are_those_of_the_clients_data_taken_together():
    rng = np.random.default_rng(0)
    shards = [rng.normal(0.0, 1.0, 3000), rng.normal(3.0, 0.5, 1000)]  # a clear and a shifted (degraded) client
    clients = [[np.zeros(1, np.float32), np.array([x.mean()], np.float32), np.array([x.var()], np.float32)] for x in shards]
    plain = [np.full(1, 7.0, np.float32), np.zeros(1, np.float32), np.zeros(1, np.float32)]
    out = pooled_batchnorm(plain, clients, [3000, 1000], [(1, 2)])
    union = np.concatenate(shards)
    assert out[0] == 7.0  # not a statistic: left as averaged
    assert out[1][0] == pytest.approx(union.mean(), abs=1e-5) and out[2][0] == pytest.approx(union.var(), rel=1e-5)
    assert out[2].dtype == np.float32


def test_batchnorm_pairs_name_each_layers_mean_and_variance():
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 1), torch.nn.BatchNorm2d(2), torch.nn.BatchNorm1d(3))
    keys = list(net.state_dict())
    assert [(keys[m], keys[v]) for m, v in batchnorm_pairs(net)] == [("1.running_mean", "1.running_var"),
                                                                     ("2.running_mean", "2.running_var")]
