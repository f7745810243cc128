"""Rule planner (proposals + forward simulation + scoring), IDM, behaviour execution, the RL policy
planner and its observation, and the planner registry."""
from planning.behaviour import BEHAVIOURS, Behaviour, BehaviourConfig, BehaviourPlanner, BehaviourState
from planning.idm import IdmParams, idm_accel, idm_rollout
from planning.observation import ObservationConfig, observe
from planning.planner import PLANNERS, Planner, make_planner
from planning.rl_policy import LoadedPolicy, RLPlanner, load_policy
from planning.rule_planner import RulePlanner, RulePlannerConfig
from planning.scoring import ScoringParams

__all__ = ["BEHAVIOURS", "Behaviour", "BehaviourConfig", "BehaviourPlanner", "BehaviourState", "IdmParams",
           "LoadedPolicy", "ObservationConfig", "PLANNERS", "Planner", "RLPlanner", "RulePlanner",
           "RulePlannerConfig", "ScoringParams", "idm_accel", "idm_rollout", "load_policy", "make_planner", "observe"]
