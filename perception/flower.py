"""Federated training on Flower's simulation engine: each vehicle client trains on its own shard and
sends back parameter arrays only; the server averages them (FedAvg or FedProx), validates every
round on a central held-out split, checkpoints each round and counts the bytes exchanged."""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from perception.federated import Learner, LearnerSpec, Shard, batchnorm_pairs, cosine_lr, get_arrays, local_train, \
    partition, pooled_batchnorm, set_arrays, train_rows
from perception.training import append_csv_row

STRATEGIES = ("fedavg", "fedprox")


@dataclass(frozen=True)
class FederatedConfig:
    spec: LearnerSpec
    shards: tuple[Shard, ...]
    rounds: int
    strategy: str = "fedavg"
    proximal_mu: float = 0.01
    """FedProx: weight of the proximal term (mu/2 * |w - w_global|^2)."""
    local_epochs: float = 1.0
    """Passes over its shard a client makes per round; a fraction (e.g. 0.25) means more, shorter rounds."""
    keep_optimizer: bool = False
    """Each client keeps its AdamW moments between rounds (on its own disk) instead of restarting them."""
    lr: float = 3e-3
    """Round 1's learning rate; cosine decay over the rounds."""
    server_lr: float = 1.0
    """The server's step along the clients' mean update of the weights (1: plain averaging, FedAvg and
    FedProx as published; above 1, FedOpt's server SGD: K clients' parallel steps average to fewer
    sequential ones). BatchNorm statistics are aggregated, never stepped."""
    pool_batchnorm: bool = False
    """BatchNorm statistics of the clients' data taken together (mixture variance) instead of the plain
    average of each client's statistics."""
    max_train_frames: int | None = None
    """Use the first N train frames of the data set (before they are split among the clients)."""


@dataclass
class Ledger:
    """What the server saw, round by round: bytes down (global model to each client) and up
    (each client's update), clients skipped, and every message that crossed the client boundary."""

    bytes_down: dict[int, int] = field(default_factory=dict)
    bytes_up: dict[int, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    crossed: list[tuple[str, object]] = field(default_factory=list)
    """("down", FitIns) and ("up", FitRes) of every fit exchange (for the boundary test)."""


class FleetClient:
    """One vehicle: its shard's frames stay here; ``fit`` gets arrays and a config, returns arrays.
    With ``state_dir`` its optimiser state is kept there between rounds (it never leaves the client)."""

    def __init__(self, spec: LearnerSpec, shard: Shard, rows: list[dict], state_dir: Path | None = None) -> None:
        self.spec, self.shard, self.rows, self.state_dir = spec, shard, rows, state_dir

    def fit(self, arrays: list[np.ndarray], config: dict) -> tuple[list[np.ndarray], int, dict]:
        """Local training from ``arrays`` (shuffled and augmented anew each round); a shard that is empty
        or unreadable trains nothing and says why in ``metrics["error"]`` (0 examples: the server leaves
        it out of the average)."""
        torch.set_num_threads(1)
        learner = Learner(replace(self.spec, seed=self.spec.seed + int(config.get("round", 0))))
        set_arrays(learner.net, arrays)
        state_path = self.state_dir / "optimizer.pt" if self.state_dir is not None else None
        state = torch.load(state_path) if state_path is not None and state_path.exists() else None
        try:
            data = learner.dataset(self.rows, self.shard.condition)
            loss, state = local_train(learner, learner.loader(data), float(config["local_epochs"]),
                                      float(config["lr"]), proximal_mu=float(config.get("proximal_mu", 0.0)),
                                      optimizer_state=state)
        except ValueError as exc:
            return arrays, 0, {"client": self.shard.name, "error": (str(exc).splitlines() or ["error"])[0][:300]}
        if state_path is not None:
            state_path.parent.mkdir(parents=True, exist_ok=True)
            torch.save(state, state_path)
        return get_arrays(learner.net), len(data), {"client": self.shard.name, "loss": loss}


def _numpy_client(client: FleetClient):
    from flwr.client import NumPyClient

    class _Client(NumPyClient):
        def get_parameters(self, config):
            return get_arrays(Learner(client.spec).net)

        def fit(self, parameters, config):
            return client.fit(parameters, config)

    return _Client()


def _strategy(cfg: FederatedConfig, ledger: Ledger, evaluate_fn, initial: list[np.ndarray], trainable: list[bool],
              bn_pairs: list[tuple[int, int]] = ()):
    from flwr.common import ndarrays_to_parameters, parameters_to_ndarrays
    from flwr.server.strategy import FedAvg, FedProx

    if cfg.strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy '{cfg.strategy}'; valid: {', '.join(STRATEGIES)}")
    base = FedProx if cfg.strategy == "fedprox" else FedAvg

    class Fleet(base):
        def configure_fit(self, server_round, parameters, client_manager):
            instructions = super().configure_fit(server_round, parameters, client_manager)
            ledger.bytes_down[server_round] = sum(_nbytes(ins.parameters) for _, ins in instructions)
            ledger.crossed += [("down", ins) for _, ins in instructions]
            return instructions

        def configure_evaluate(self, server_round, parameters, client_manager):
            return []  # validation is central (``evaluate_fn``), on ground truth the server holds

        def aggregate_fit(self, server_round, results, failures):
            ledger.bytes_up[server_round] = sum(_nbytes(res.parameters) for _, res in results)
            ledger.crossed += [("up", res) for _, res in results]
            kept = []
            for _, res in results:
                if res.num_examples > 0:
                    kept.append((_, res))
                    continue
                line = f"round {server_round}: client {res.metrics.get('client')} skipped: {res.metrics.get('error')}"
                ledger.skipped.append(line)
                print(line, flush=True)
            for failure in failures:
                line = f"round {server_round}: a client failed: {(str(failure).splitlines() or ['?'])[0][:300]}"
                ledger.skipped.append(line)
                print(line, flush=True)
            params, metrics = super().aggregate_fit(server_round, kept, [])
            if params is not None:
                arrays = parameters_to_ndarrays(params)
                if cfg.pool_batchnorm:
                    arrays = pooled_batchnorm(arrays, [parameters_to_ndarrays(r.parameters) for _, r in kept],
                                              [r.num_examples for _, r in kept], bn_pairs)
                params = ndarrays_to_parameters(self.server_step(arrays))
            return params, metrics

        def server_step(self, mean: list[np.ndarray]) -> list[np.ndarray]:
            """Global weights + server_lr x (the clients' mean - global weights); buffers (BatchNorm
            statistics) are taken as aggregated."""
            if cfg.server_lr != 1.0:
                mean = [(g + cfg.server_lr * (m - g)).astype(g.dtype) if learned else m
                        for g, m, learned in zip(self.current, mean, trainable)]
            self.current = mean
            return mean

    k = len(cfg.shards)
    extra = {"proximal_mu": cfg.proximal_mu} if cfg.strategy == "fedprox" else {}
    strategy = Fleet(fraction_fit=1.0, min_fit_clients=k, min_available_clients=k, fraction_evaluate=0.0,
                 min_evaluate_clients=0, evaluate_fn=evaluate_fn, initial_parameters=ndarrays_to_parameters(initial),
                 on_fit_config_fn=lambda r: {"lr": cosine_lr(cfg.lr, r - 1, cfg.rounds),
                                             "local_epochs": cfg.local_epochs, "round": r},
                 accept_failures=True, **extra)
    strategy.current = initial
    return strategy


def _nbytes(parameters) -> int:
    return sum(len(t) for t in parameters.tensors)


def run_federated(cfg: FederatedConfig, out: Path) -> dict:
    """Run the rounds on Flower's simulation engine (Ray); ``out`` gets ``round_NN.pt`` each round,
    ``best.pt`` (best validation AP@2m), ``metrics.csv`` and the ledger's numbers."""
    from flwr.client import ClientApp
    from flwr.server import ServerApp, ServerAppComponents, ServerConfig
    from flwr.simulation import run_simulation

    out.mkdir(parents=True, exist_ok=True)
    shards_rows = partition(train_rows(cfg.spec.data, cfg.max_train_frames), cfg.shards)
    server = Learner(cfg.spec)
    ledger, history, t0 = Ledger(), [], time.time()

    def evaluate_fn(server_round: int, arrays, _config):
        if server_round == 0:
            return None  # the initial weights: nothing learned yet
        set_arrays(server.net, arrays)
        ap = server.validate()
        torch.save(server.payload(), out / f"round_{server_round:02d}.pt")
        if ap > max((h["val_ap_2m"] for h in history), default=-1.0):
            torch.save(server.payload(), out / "best.pt")
        row = {"round": server_round, "val_ap_2m": ap, "bytes_down": ledger.bytes_down.get(server_round, 0),
               "bytes_up": ledger.bytes_up.get(server_round, 0), "wall_s": round(time.time() - t0, 1)}
        history.append(row)
        append_csv_row(out / "metrics.csv", row)
        print(f"round {server_round}/{cfg.rounds}: validation AP@2m {ap:.3f}, "
              f"{(row['bytes_down'] + row['bytes_up']) / 1e6:.2f} MB exchanged", flush=True)
        return 0.0, {"ap_2m": ap}

    def server_fn(_context):
        learned = {name for name, _ in server.net.named_parameters()}
        strategy = _strategy(cfg, ledger, evaluate_fn, get_arrays(server.net), [k in learned for k in server.net.state_dict()],
                             batchnorm_pairs(server.net))
        return ServerAppComponents(strategy=strategy, config=ServerConfig(num_rounds=cfg.rounds))

    def client_fn(context):
        i = int(context.node_config["partition-id"])
        state_dir = out / "clients" / cfg.shards[i].name if cfg.keep_optimizer else None
        return _numpy_client(FleetClient(cfg.spec, cfg.shards[i], shards_rows[i], state_dir)).to_client()

    for shard, rows in zip(cfg.shards, shards_rows):
        print(f"client {shard.name}: {len(rows)} frames ({', '.join(shard.scenarios)}; {shard.condition})")
    with _environment_kept("PYTHONPATH"):  # Flower's Ray backend sets it for the whole process
        run_simulation(ServerApp(server_fn=server_fn), ClientApp(client_fn=client_fn), num_supernodes=len(cfg.shards),
                       backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0},
                                       "init_args": {"num_cpus": 2, "include_dashboard": False}})
    return {"history": history, "ledger": ledger, "frames": [len(r) for r in shards_rows],
            "best_val_ap_2m": max((h["val_ap_2m"] for h in history), default=float("nan")),
            "wall_s": time.time() - t0}


@contextmanager
def _environment_kept(name: str):
    """Restore the environment variable ``name`` (or its absence) on exit: a simulation must not leave
    this checkout on the PYTHONPATH of every process started after it."""
    before = os.environ.get(name)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before
