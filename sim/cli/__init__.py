"""The ``drivestack`` command line (``main``): one module per command group, each with
``add_arguments(subparsers)``; shared options come from the parent parsers in ``sim.cli.common``."""
