"""Scoring: driving metrics and the nuPlan-style score, suites, batch jobs, tracking evaluation in
simulation and on KITTI tracking data (``kitti_data``, ``kitti_geometry``, ``kitti_matching``,
``kitti_eval``, ``kitti_baseline``)."""
from sim.evaluation.metrics import (AggregateMetrics, EpisodeMetrics, aggregate, compute_episode_metrics,
                                    format_table, to_json, write_json)
from sim.evaluation.suite import SUITES, SuiteConfig, load_suite

__all__ = ["AggregateMetrics", "EpisodeMetrics", "SUITES", "SuiteConfig", "aggregate", "compute_episode_metrics",
           "format_table", "load_suite", "to_json", "write_json"]
