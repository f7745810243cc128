"""Behaviour decisions (lane x target-speed change) and the planner that turns one into a trajectory.

An RL policy does not steer or accelerate: every ``decision_period_s`` it picks one of the nine
``BEHAVIOURS`` below, and ``BehaviourPlanner`` executes it every tick with the rule planner's
trajectory generation (lane-centre paths blended in over ``lane_change_time_s``, IDM car following
towards the target speed, curve speed caps) for the project's controller to track. The policy
therefore decides *where* and *how fast* to drive; keeping a safe gap to the leader on the chosen
path is IDM's job, and ``action_mask`` (``planning.action_mask``) offers a lane change only into a
safe gap, front and rear, and a speed-up only with a safe headway.

Behaviour state follows highway-env's meta-actions: "left" moves the *target* lane one lane left of
the current target (so a change in progress can be aborted by "right"); the target speed moves by
``speed_step_mps`` per "faster" / "slower" and is held in between.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from control.types import Trajectory
from fusion.types import WorldModel
from planning.action_mask import LaneGap, behaviour_mask, gap_is_safe, headway_is_safe, lane_gap
from planning.idm import idm_rollout
from planning.rule_planner import RulePlanner, RulePlannerConfig, _speed_std


@dataclass(frozen=True)
class Behaviour:
    """One decision: ``lane_change`` +1 left, -1 right, 0 keep; ``speed_change`` +1 faster, -1 slower, 0 hold."""

    lane_change: int
    speed_change: int

    @property
    def name(self) -> str:
        lane = {0: "keep", 1: "left", -1: "right"}[self.lane_change]
        speed = {0: "hold", 1: "faster", -1: "slower"}[self.speed_change]
        return f"{lane}+{speed}"


BEHAVIOURS: tuple[Behaviour, ...] = tuple(Behaviour(lane, speed) for lane in (0, 1, -1) for speed in (0, 1, -1))
"""The discrete action table: index = 3 * lane (keep, left, right) + speed (hold, faster, slower)."""


@dataclass(frozen=True)
class BehaviourConfig:
    """How decisions are executed."""

    decision_period_s: float = 0.5
    """A decision is held this long (5 ticks at 10 Hz)."""
    speed_step_mps: float = 2.0
    """Change of the target speed per 'faster' / 'slower' [m/s]."""
    min_target_speed_mps: float = 5.0
    planner: RulePlannerConfig = field(default_factory=RulePlannerConfig)


@dataclass(frozen=True)
class BehaviourState:
    """What the executor currently aims for: a lane id and an IDM desired speed [m/s]."""

    target_lane_id: str | None
    target_speed_mps: float


class BehaviourPlanner(RulePlanner):
    """``decide(world, behaviour)`` updates the target; ``plan(world)`` follows it with IDM."""

    def __init__(self, config: BehaviourConfig = BehaviourConfig()) -> None:
        self.behaviour_config = config
        super().__init__(config.planner)

    def reset(self) -> None:
        super().reset()
        self.state: BehaviourState | None = None
        self.aborted_changes = 0
        """Lane changes under way that the executor aborted because their gap became unsafe."""

    def decide(self, world: WorldModel, behaviour: Behaviour) -> BehaviourState:
        """Apply a decision to the target lane and speed (an impossible lane change keeps the lane)."""
        self._sync_map(world)
        current = self._ego_lane(world)
        state = self._valid_state(world, current)
        target = self._changed_target(world, current, state, behaviour.lane_change) or state.target_lane_id
        cfg = self.behaviour_config
        v_max = self._speed_cap(world, current)
        speed = float(np.clip(state.target_speed_mps + behaviour.speed_change * cfg.speed_step_mps,
                              cfg.min_target_speed_mps, max(v_max, cfg.min_target_speed_mps)))
        self.state = BehaviourState(target, speed)
        return self.state

    def action_mask(self, world: WorldModel) -> np.ndarray:
        """Which behaviours are safe to pick now (9,) bool, in ``BEHAVIOURS`` order (see
        ``planning.action_mask``; all True when the mask is disabled)."""
        cfg = self.config.safety_mask
        if not cfg.enabled:
            return np.ones(len(BEHAVIOURS), bool)
        self._sync_map(world)
        current = self._ego_lane(world)
        if current is None:
            return behaviour_mask({1: True, -1: True}, False)
        state = self._valid_state(world, current)
        lane_ok = {}
        for change in (1, -1):
            target = self._changed_target(world, current, state, change)
            lane_ok[change] = target is None or gap_is_safe(self._gap(world, target), cfg)
        ahead = self._gap(world, state.target_lane_id or current)
        return behaviour_mask(lane_ok, headway_is_safe(ahead, world.ego.speed_mps, cfg))

    def _changed_target(self, world: WorldModel, current: str | None, state: BehaviourState,
                        lane_change: int) -> str | None:
        """The lane one lane left (+1) / right (-1) of the target, or None when there is no change to make
        (none asked, no lane there, or no changes here)."""
        target = state.target_lane_id
        if not lane_change or target is None or current is None or not self._may_change(world, current):
            return None
        lane = world.lane_map.lanes[target]
        nxt = lane.left_id if lane_change > 0 else lane.right_id
        return nxt if nxt is not None and nxt in self._reachable(world, current) else None

    def _gap(self, world: WorldModel, lane_id: str) -> LaneGap:
        chain = self._chain(world, lane_id, self.config.horizon_s * self.config.max_speed_mps + 30.0)
        ego = world.ego
        return lane_gap(chain.points_m, chain.s_m, chain.width_m / 2.0,
                        np.array([ego.x_m, ego.y_m, ego.yaw_rad, ego.speed_mps, ego.length_m]), world.tracks_array())

    def plan(self, world: WorldModel) -> Trajectory:
        self._sync_map(world)
        current = self._ego_lane(world)
        if current is None:
            return self._stop_trajectory(world)
        keep = self._nearby(world)
        tracks, lane_ids = self._nearby_tracks(world, keep)
        own = self._lane_option(world, current, True, tracks)
        state = self._abort_if_unsafe(world, current, self._valid_state(world, current, curved=self._in_curve(own.yaw)))
        self.state = state
        option = own if state.target_lane_id == current else self._lane_option(world, state.target_lane_id, False,
                                                                                 tracks)
        if np.isfinite(own.stop_line_gap_m):
            return self._junction_plan(world, own, option, tracks, lane_ids, _speed_std(world, keep))
        v0 = min(state.target_speed_mps, option.chain.speed_limit_mps, option.curve_speed_mps)
        gap, lead_v = option.lead_gap_m, option.lead_speed_mps
        cfg = self.config
        s_ref, v_ref = idm_rollout(world.ego.speed_mps, np.array([v0]), np.array([gap]), np.array([lead_v]),
                                   cfg.horizon_s, cfg.dt_s, cfg.idm, world.ego.accel_mps2,
                                   emergency=np.array([True]))  # IDM is the policy's only brake: full authority
        return self._trajectory(world, option, s_ref[0], v_ref[0])

    def _abort_if_unsafe(self, world: WorldModel, current: str, state: BehaviourState) -> BehaviourState:
        """A lane change under way is checked every tick, not only when it was asked for: once the gap
        it enters fails the safety mask's test (a car came alongside, one closes in from behind), the
        target goes back to the ego's lane. The policy cannot hold a change into an unsafe gap."""
        cfg = self.config.safety_mask
        if state.target_lane_id == current or not cfg.enabled:
            return state
        if gap_is_safe(self._gap(world, state.target_lane_id), cfg):
            return state
        self.aborted_changes += 1
        return BehaviourState(current, state.target_speed_mps)

    def _junction_plan(self, world: WorldModel, own, option, tracks: np.ndarray, lane_ids: list[str | None],
                       speed_std: np.ndarray) -> Trajectory:
        """The own lane ends in a junction, a ring entry or a lane merge: whether to go or to yield at
        its end is the rule planner's gap acceptance (its proposals, scored against the predicted
        traffic), not the policy's. The policy's target speed caps every proposal and its target lane
        is the preferred one (a safer lane may still win)."""
        cap = self.state.target_speed_mps
        lanes = (own,) if option is own else (own, option)
        options = [replace(o, curve_speed_mps=min(o.curve_speed_mps, cap)) for o in lanes]
        self._preferred_lane = option.lane_id
        return self._choose(world, options, tracks, lane_ids, speed_std)

    def _valid_state(self, world: WorldModel, current: str | None, curved: bool = False) -> BehaviourState:
        """The held state, with the target lane reset to the ego's lane when it is no longer a neighbour
        (the change finished, the road segment changed) or the road bends."""
        if self.state is None:
            return BehaviourState(current, self._speed_cap(world, current))
        target = self.state.target_lane_id
        if target is None or target not in self._reachable(world, current) or curved:
            target = current
        return BehaviourState(target, self.state.target_speed_mps)

    def _reachable(self, world: WorldModel, current: str | None) -> tuple[str, ...]:
        if current is None:
            return ()
        lane = world.lane_map.lanes[current]
        return tuple(lid for lid in (current, lane.left_id, lane.right_id) if lid is not None)

    def _may_change(self, world: WorldModel, current: str) -> bool:
        """No lane changes in bends and roundabouts (same rule as the rule planner)."""
        return not self._in_curve(self._lane_option(world, current, True, np.zeros((0, 7))).yaw)

    def _speed_cap(self, world: WorldModel, lane_id: str | None) -> float:
        limit = world.lane_map.lanes[lane_id].speed_limit_mps if lane_id is not None else self.config.max_speed_mps
        return float(min(limit, self.config.max_speed_mps))
