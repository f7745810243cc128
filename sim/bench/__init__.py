"""Benchmarks, each against its reference measured in the same run on the shared timing helpers
(``sim.bench.timing``): closed loop (``loop``), sensors, the RL env and replay."""
from sim.bench.timing import bare_step_ms, machine_info, medians

__all__ = ["bare_step_ms", "machine_info", "medians"]
