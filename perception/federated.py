"""Fleet learning without pooling the drives: client shards (non-IID by scenario and sensor
condition), the model-specific learners (lidar, camera) and the local training step that a client
runs on its own frames. Flower glue is in ``perception.flower``; nothing here imports it."""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from perception.bev import BevGrid
from perception.dataset import read_manifest
from perception.lidar_detector import resolve_device

CONDITIONS = ("clear", "dim", "noisy")
"""A client's sensor condition: as recorded; a dim night-like camera; a noisier, sparser lidar."""


@dataclass(frozen=True)
class Shard:
    """The drives one vehicle client holds: its episodes of ``scenarios`` and its sensor condition."""

    name: str
    scenarios: tuple[str, ...]
    condition: str = "clear"


FLEET = (Shard("highway", ("highway",)), Shard("urban", ("roundabout", "intersection")),
         Shard("ramps", ("merge", "exit")), Shard("highway-degraded", ("highway", "exit"), "degraded"),
         Shard("mixed", ("highway", "merge", "exit", "roundabout", "intersection")))
"""The default non-IID fleet (``--clients K`` takes the first K, cycling); ``degraded`` is ``dim``
for the camera and ``noisy`` for the lidar."""


def fleet(k: int, model: str) -> tuple[Shard, ...]:
    """K shards of the default fleet with the model's degraded condition filled in."""
    degraded = {"camera": "dim", "lidar": "noisy"}[model]
    shards = [FLEET[i % len(FLEET)] for i in range(k)]
    return tuple(Shard(f"{s.name}-{i}" if i >= len(FLEET) else s.name, s.scenarios,
                       degraded if s.condition == "degraded" else s.condition) for i, s in enumerate(shards))


def partition(rows: list[dict], shards: tuple[Shard, ...]) -> list[list[dict]]:
    """Each episode of ``rows`` to one shard: among the shards holding its scenario, in turn
    (episode order). A scenario no shard holds is left out; frames never go to two shards."""
    out: list[list[dict]] = [[] for _ in shards]
    turn: dict[str, int] = {}
    owner: dict[int, int] = {}
    for row in rows:
        takers = [i for i, s in enumerate(shards) if row.get("scenario") in s.scenarios]
        if not takers:
            continue
        if row["seed"] not in owner:
            n = turn.get(row["scenario"], 0)
            owner[row["seed"]], turn[row["scenario"]] = takers[n % len(takers)], n + 1
        out[owner[row["seed"]]].append(row)
    return out


def train_rows(data: str | Path, max_frames: int | None = None) -> list[dict]:
    """The train split's manifest rows (the first ``max_frames``)."""
    return [f for f in read_manifest(data)["frames"] if f["split"] == "train"][:max_frames]


def get_arrays(net: torch.nn.Module) -> list[np.ndarray]:
    """Every entry of the state dict (weights and BatchNorm statistics) as a NumPy array, in order."""
    return [t.detach().cpu().numpy().copy() for t in net.state_dict().values()]


def set_arrays(net: torch.nn.Module, arrays: list[np.ndarray]) -> None:
    """Load arrays from ``get_arrays`` (or an average of them) back, each cast to its tensor's dtype."""
    state = net.state_dict()
    if len(arrays) != len(state):
        raise ValueError(f"expected {len(state)} parameter arrays, got {len(arrays)}")
    net.load_state_dict({k: torch.from_numpy(np.asarray(a)).to(v.dtype).reshape(v.shape)
                         for (k, v), a in zip(state.items(), arrays)})


def batchnorm_pairs(net: torch.nn.Module) -> list[tuple[int, int]]:
    """(running_mean, running_var) positions in ``get_arrays``' order, one pair per BatchNorm layer."""
    keys = list(net.state_dict())
    return [(i, keys.index(k.removesuffix("running_mean") + "running_var"))
            for i, k in enumerate(keys) if k.endswith("running_mean")]


def pooled_batchnorm(averaged: list[np.ndarray], clients: list[list[np.ndarray]], weights: list[float],
                     pairs: list[tuple[int, int]]) -> list[np.ndarray]:
    """``averaged`` with each BatchNorm layer's statistics replaced by those of the clients' data taken
    together: the weighted mean of the running means, and the mixture variance sum_k w_k (var_k +
    (mean_k - mean)^2), which the plain average of the variances underestimates when the clients'
    feature means differ (non-IID shards, a degraded sensor)."""
    out = list(averaged)
    w = np.asarray(weights, float) / float(np.sum(weights))
    for im, iv in pairs:
        mean = sum(wk * c[im].astype(np.float64) for wk, c in zip(w, clients))
        var = sum(wk * (c[iv].astype(np.float64) + (c[im] - mean) ** 2) for wk, c in zip(w, clients))
        out[im], out[iv] = mean.astype(averaged[im].dtype), var.astype(averaged[iv].dtype)
    return out


class Degraded(torch.utils.data.Dataset):
    """A shard's samples under its sensor condition: the camera image darkened and grainy (night),
    or lidar points jittered by 8 cm and 30 % of them dropped. Targets are unchanged."""

    def __init__(self, base: torch.utils.data.Dataset, condition: str, seed: int = 0) -> None:
        if condition not in CONDITIONS:
            raise ValueError(f"unknown sensor condition '{condition}'; valid: {', '.join(CONDITIONS)}")
        self.base, self.condition, self.rng = base, condition, np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, i: int):
        sample = self.base[i]
        if self.condition == "dim":
            noise = self.rng.normal(0.0, 3.0, sample[0].shape)
            return ((sample[0] * 0.3 + noise).clip(0, 255).astype(np.uint8), *sample[1:])
        if self.condition == "noisy":
            pts = sample[0][self.rng.random(len(sample[0])) >= 0.3].copy()
            pts[:, :3] += self.rng.normal(0.0, 0.08, (len(pts), 3)).astype(pts.dtype)
            return (pts, *sample[1:])
        return sample


@dataclass(frozen=True)
class LearnerSpec:
    """What a learner needs to rebuild itself anywhere (a Flower client process included)."""

    model: str
    data: str
    val_data: str
    batch_size: int = 8
    seed: int = 0
    device: str = "cpu"
    max_val_frames: int | None = 200


class Learner:
    """One model's network, shard datasets, loss, validation and checkpoint payload."""

    def __init__(self, spec: LearnerSpec) -> None:
        if spec.model not in ("lidar", "camera"):
            raise ValueError(f"unknown model '{spec.model}'; valid: lidar, camera")
        torch.manual_seed(spec.seed)
        self.spec, self.device = spec, resolve_device(spec.device)
        self.gen = torch.Generator().manual_seed(spec.seed)
        if spec.model == "lidar":
            from perception.lidar_net import LidarCenterNet
            self.net = LidarCenterNet(BevGrid()).to(self.device)
        else:
            from perception.camera_net import CameraCenterNet
            from perception.camera_targets import CameraInput
            self.net = CameraCenterNet(CameraInput()).to(self.device)
        self._val = None
        self._fitted: dict = {}
        """Camera: covariance model and depth gain fitted at the last validation (for the payload)."""

    def dataset(self, rows: list[dict], condition: str = "clear") -> torch.utils.data.Dataset:
        """Training samples of these manifest rows under ``condition``; no rows is a ValueError."""
        if not rows:
            raise ValueError("no training frames")
        if self.spec.model == "lidar":
            from perception.lidar_data import LidarFrames
            base = LidarFrames(self.spec.data, "train", self.net.grid, True, self.spec.seed, rows=rows)
        else:
            from perception.camera_data import CameraFrames
            base = CameraFrames(self.spec.data, "train", self.net.geo, True, self.spec.seed, rows=rows)
        return Degraded(base, condition, self.spec.seed)

    def loader(self, dataset: torch.utils.data.Dataset) -> torch.utils.data.DataLoader:
        if self.spec.model == "lidar":
            from perception.lidar_data import collate
        else:
            from perception.camera_data import collate
        return torch.utils.data.DataLoader(dataset, self.spec.batch_size, shuffle=True, collate_fn=collate,
                                           generator=torch.Generator().manual_seed(self.spec.seed))

    def loss(self, batch) -> torch.Tensor:
        if self.spec.model == "lidar":
            from perception.train_lidar import lidar_loss
            return lidar_loss(self.net, batch, self.device)
        from perception.train_camera import camera_loss
        return camera_loss(self.net, batch, self.gen, self.device)

    def validate(self) -> float:
        """AP@2m on the central validation split's ground truth (loaded once)."""
        if self.spec.model == "lidar":
            from perception.lidar_data import LidarFrames
            from perception.train_lidar import validate_lidar
            self._val = self._val or LidarFrames(self.spec.val_data, "val", self.net.grid, max_frames=self.spec.max_val_frames)
            return validate_lidar(self.net, self._val, self.net.grid, self.device)
        from perception.camera_data import CameraFrames
        from perception.train_camera import validate_camera
        self._val = self._val or CameraFrames(self.spec.val_data, "val", self.net.geo, max_frames=self.spec.max_val_frames)
        ap, self._fitted["covariance"], self._fitted["depth_gain"] = validate_camera(self.net, self._val, self.device)
        return ap

    def payload(self) -> dict:
        """``best.pt`` in the format the detectors load (as ``train`` writes it)."""
        if self.spec.model == "lidar":
            from perception.train_lidar import lidar_payload
            return lidar_payload(self.net)
        from perception.camera_detector import CovarianceModel
        from perception.train_camera import camera_payload
        return camera_payload(self.net, self._fitted.get("covariance", CovarianceModel()),
                              self._fitted.get("depth_gain", 1.0))


def local_train(learner: Learner, loader, epochs: float, lr: float, weight_decay: float = 1e-4,
                proximal_mu: float = 0.0, optimizer_state: dict | None = None) -> tuple[float, dict]:
    """``epochs`` passes over a client's loader from the current weights (a fraction is that share of
    its batches, at least one); with ``proximal_mu`` > 0 the FedProx term mu/2 * |w - w_global|^2 keeps
    the weights near the ones received. ``optimizer_state`` (AdamW's moments from the client's last
    round) continues its optimiser instead of restarting it. -> (mean loss, the optimiser's state)."""
    net = learner.net
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    if optimizer_state is not None:
        opt.load_state_dict(optimizer_state)
        for group in opt.param_groups:
            group["lr"] = lr
    anchor = [p.detach().clone() for p in net.parameters()]
    if len(loader) == 0:
        raise ValueError("no training batches")
    steps, losses = max(1, math.ceil(epochs * len(loader))), []
    net.train()
    while len(losses) < steps:
        for batch in itertools.islice(loader, steps - len(losses)):
            loss = learner.loss(batch)
            if proximal_mu > 0:
                loss = loss + proximal_mu / 2 * sum(((p - a) ** 2).sum() for p, a in zip(net.parameters(), anchor))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return float(np.mean(losses)), opt.state_dict()


def cosine_lr(lr: float, step: int, steps: int) -> float:
    """The learning rate of round (or epoch) ``step`` of ``steps`` (0-based) under cosine decay."""
    return lr * 0.5 * (1.0 + np.cos(np.pi * step / steps))


def run_pooled(spec: LearnerSpec, shards: tuple[Shard, ...], epochs: int, lr: float, out: Path,
               max_train_frames: int | None = None) -> dict:
    """The centralised baseline: the union of the same shards (each under its own condition) trained in
    one place by the shared loop for ``epochs`` epochs, validated each epoch like the federated rounds."""
    from perception.training import Fit, TrainConfig, fit

    learner = Learner(spec)
    parts = partition(train_rows(spec.data, max_train_frames), shards)
    union = torch.utils.data.ConcatDataset([learner.dataset(rows, s.condition) for s, rows in zip(shards, parts) if rows])
    cfg = TrainConfig(epochs=epochs, batch_size=spec.batch_size, lr=lr, patience=epochs, seed=spec.seed,
                      device=spec.device, max_val_frames=spec.max_val_frames)
    job = Fit(learner.net, learner.loader(union), learner.loss, learner.validate, learner.payload)
    return fit(job, cfg, out) | {"frames": [len(r) for r in parts]}
