"""Rule planner (proposals + forward simulation + scoring), IDM, and planner registry."""
from planning.idm import IdmParams, idm_accel, idm_rollout
from planning.planner import PLANNERS, Planner, make_planner
from planning.rule_planner import RulePlanner, RulePlannerConfig
from planning.scoring import ScoringParams

__all__ = ["IdmParams", "PLANNERS", "Planner", "RulePlanner", "RulePlannerConfig", "ScoringParams",
           "idm_accel", "idm_rollout", "make_planner"]
