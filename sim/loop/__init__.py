"""The closed loop: the builder layer (``RunSetup`` from configs), world-model sources, ego drivers,
one tick (``Episode.tick`` -> ``TickRecord``), the episode runner and the video sink."""
from sim.loop.drivers import DRIVERS, EgoDriver, IdmDriver, StackDriver, make_driver
from sim.loop.episode import EpisodeLog
from sim.loop.runner import Timings, run_episode
from sim.loop.setup import RunSetup, build_setup, open_env
from sim.loop.tick import Episode, TickRecord
from sim.loop.world_sources import WORLD_SOURCES, PerceptionConfig, WorldEstimate, WorldSource, make_world_source

__all__ = ["DRIVERS", "EgoDriver", "Episode", "EpisodeLog", "IdmDriver", "PerceptionConfig", "RunSetup",
           "StackDriver", "TickRecord", "Timings", "WORLD_SOURCES", "WorldEstimate", "WorldSource", "build_setup",
           "make_driver", "make_world_source", "open_env", "run_episode"]
