"""The highway-env adapter, the only importer of ``highway_env``: scenario configs and env creation,
the frame change at the boundary (y and headings mirrored), the lane map, ground-truth capture,
command-to-action mapping, and the episode helpers (route, collision fault, IDM ego, top-down view)."""
from sim.highway.actions import action_ranges, command_to_action
from sim.highway.frames import he_to_map_heading, lane_id, map_to_he_xy
from sim.highway.ground_truth import GroundTruthFrame, VehicleIds, VehicleSnapshot, capture
from sim.highway.roadmap import build_lane_map
from sim.highway.scenarios import SCENARIOS, ScenarioConfig, load_scenario, make_env, scenario_names

__all__ = ["GroundTruthFrame", "SCENARIOS", "ScenarioConfig", "VehicleIds", "VehicleSnapshot", "action_ranges",
           "build_lane_map", "capture", "command_to_action", "he_to_map_heading", "lane_id", "load_scenario",
           "make_env", "map_to_he_xy", "scenario_names"]
