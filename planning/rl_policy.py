"""A trained stable-baselines3 policy used as a planner: it decides behaviours, ``BehaviourPlanner`` executes them.

Policy files are SB3 zips written by ``drivestack train --model policy``; the model carries a
``drivestack_meta`` attribute (saved in the zip's ``data`` entry) with the algorithm, the
observation layout and the behaviour settings it was trained with, so a file is checked before any
weights are loaded: a corrupt file, a zip without that metadata, or one whose observation layout this
code cannot build is a ``ValueError`` naming the file.
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from control.types import Trajectory
from fusion.types import WorldModel
from perception.lookup import Registry
from planning.action_mask import safe_substitute
from planning.behaviour import BEHAVIOURS, BehaviourConfig, BehaviourPlanner
from planning.observation import ObservationConfig, observe
from planning.rule_planner import RulePlannerConfig

POLICY_DIR = Path(__file__).resolve().parent / "policies"
SHIPPED_POLICY = POLICY_DIR / "highway_dqn.zip"
"""The highway policy committed with the project (card: policies/highway_dqn.md)."""


def shipped_policy(scenario: str) -> Path:
    """The committed policy for a scenario: ``policies/<scenario>_dqn.zip`` (card beside it), the
    highway policy for a scenario without its own."""
    own = POLICY_DIR / f"{scenario}_dqn.zip"
    return own if own.exists() else SHIPPED_POLICY
META_KEY = "drivestack_meta"
META_FORMAT = 1


@dataclass(frozen=True)
class PolicyMeta:
    """What a policy file says about how it was trained."""

    algo: str
    observation: ObservationConfig
    behaviour: BehaviourConfig
    layout_id: str
    extra: dict

    def to_dict(self) -> dict:
        return {"format": META_FORMAT, "algo": self.algo, "layout_id": self.layout_id,
                "observation": asdict(self.observation),
                "behaviour": {k: v for k, v in asdict(self.behaviour).items() if k != "planner"}, **self.extra}


def make_meta(algo: str, observation: ObservationConfig, behaviour: BehaviourConfig, **extra) -> PolicyMeta:
    return PolicyMeta(algo, observation, behaviour, observation.layout_id, extra)


def read_meta(path: str | Path) -> PolicyMeta:
    """The metadata of a policy file, validated; every problem is a ValueError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"policy file not found: {path}")
    try:
        with zipfile.ZipFile(path) as zf:
            data = json.loads(zf.read("data"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        raise ValueError(f"{path} is not a readable policy file (corrupt or not a stable-baselines3 zip): {exc}") from exc
    raw = data.get(META_KEY)
    if not isinstance(raw, dict) or raw.get("format") != META_FORMAT:
        raise ValueError(f"{path} has no drivestack policy metadata (format {META_FORMAT}); "
                         "train it with `drivestack train --model policy`")
    return _parse_meta(path, raw)


def _parse_meta(path: Path, raw: dict) -> PolicyMeta:
    try:
        ALGORITHMS.check(str(raw.get("algo")))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    try:
        obs = ObservationConfig(**raw["observation"])
        behaviour = BehaviourConfig(**raw["behaviour"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: malformed policy metadata ({exc})") from exc
    if raw.get("layout_id") != obs.layout_id:
        raise ValueError(f"{path} was trained on observation layout '{raw.get('layout_id')}', which this version "
                         f"cannot build (it builds '{obs.layout_id}'); retrain the policy")
    extra = {k: v for k, v in raw.items() if k not in ("format", "algo", "layout_id", "observation", "behaviour")}
    return PolicyMeta(raw["algo"], obs, behaviour, obs.layout_id, extra)


def _algos() -> dict:
    from sb3_contrib import MaskablePPO  # imported only when a policy is used
    from stable_baselines3 import DQN, PPO

    return {"dqn": DQN, "ppo": PPO, "maskable_ppo": MaskablePPO}


ALGORITHMS: Registry[type] = Registry("algorithm", _algos)
"""Stable-baselines3 algorithms by name."""
MASK_AWARE: frozenset[str] = frozenset({"maskable_ppo"})
"""Algorithms that read the safety mask themselves (they never pick a masked action in training)."""


@dataclass(frozen=True)
class LoadedPolicy:
    meta: PolicyMeta
    model: object

    def act(self, obs: np.ndarray, mask: np.ndarray | None = None) -> int:
        """Deterministic action index for one observation: the policy's favourite, or with ``mask``
        (allowed flags per action) its favourite among the allowed ones."""
        if mask is None:
            action, _ = self.model.predict(obs, deterministic=True)
            return int(np.asarray(action).reshape(-1)[0])
        return int(np.argmax(np.where(mask, self.preferences(obs), -np.inf)))

    def allowed_act(self, obs: np.ndarray, wanted: int, mask: np.ndarray) -> int:
        """What runs instead of a masked favourite ``wanted``: a mask-aware policy's best allowed
        action; for the others the training environment's rule (``safe_substitute``), so the policy
        drives as it was trained."""
        return self.act(obs, mask) if self.meta.algo in MASK_AWARE else safe_substitute(wanted, mask)

    def preferences(self, obs: np.ndarray) -> np.ndarray:
        """The policy's preference for every action (higher first): DQN's Q-values, the logits of
        PPO's action distribution."""
        import torch

        policy = self.model.policy
        obs_t, _ = policy.obs_to_tensor(np.asarray(obs, np.float32))
        with torch.no_grad():
            if hasattr(policy, "q_net"):
                return policy.q_net(obs_t)[0].cpu().numpy()
            return policy.get_distribution(obs_t).distribution.logits[0].cpu().numpy()


def load_policy(path: str | Path, device: str = "cpu") -> LoadedPolicy:
    """Read, validate and load a policy file (cached per path and modification time)."""
    path = Path(path)
    read_meta(path)
    return _load(str(path.resolve()), path.stat().st_mtime_ns, device)


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, device: str) -> LoadedPolicy:
    meta = read_meta(path)
    try:
        model = ALGORITHMS[meta.algo].load(path, device=device)
    except Exception as exc:  # SB3 raises many types on damaged archives
        raise ValueError(f"{path}: cannot load the {meta.algo} policy ({type(exc).__name__}: {exc})") from exc
    shape = getattr(model.observation_space, "shape", None)
    if shape != (meta.observation.size,) or getattr(model.action_space, "n", None) != len(BEHAVIOURS):
        raise ValueError(f"{path}: policy spaces {shape} x {model.action_space} do not match the layout "
                         f"({meta.observation.size},) x Discrete({len(BEHAVIOURS)})")
    return LoadedPolicy(meta, model)


class RLPlanner:
    """``plan(world)``: every decision period the policy picks a behaviour; in between it is held."""

    def __init__(self, config: RulePlannerConfig | None = None, policy_file: str | Path | None = None) -> None:
        if policy_file is None:
            raise ValueError("planner 'rl' needs a policy file (--policy FILE)")
        self.policy = load_policy(policy_file)
        behaviour = self.policy.meta.behaviour
        self.executor = BehaviourPlanner(replace(behaviour, planner=config or RulePlannerConfig()))
        self.reset()

    def reset(self) -> None:
        self.executor.reset()
        self._next_decision_s: float | None = None
        self.last_action: int | None = None
        self.decisions = 0
        self.interventions = {"lane": 0, "speed": 0}
        """Decisions where the safety mask overruled the policy's favourite (``planning.action_mask``):
        a lane change it refused ("lane"), or a speed-up only ("speed")."""

    def plan(self, world: WorldModel) -> Trajectory:
        period = self.policy.meta.behaviour.decision_period_s
        if self._next_decision_s is None or world.stamp >= self._next_decision_s - 1e-6:
            obs = observe(world, self.executor.state, self.policy.meta.observation)
            wanted = self.policy.act(obs)
            mask = self.executor.action_mask(world)
            self.last_action = wanted if mask[wanted] else self.policy.allowed_act(obs, wanted, mask)
            self.decisions += 1
            if self.last_action != wanted:
                lane_refused = BEHAVIOURS[wanted].lane_change != BEHAVIOURS[self.last_action].lane_change
                self.interventions["lane" if lane_refused else "speed"] += 1
            self.executor.decide(world, BEHAVIOURS[self.last_action])
            start = world.stamp if self._next_decision_s is None else self._next_decision_s
            self._next_decision_s = start + period
        return self.executor.plan(world)

