"""highway-env scenarios, closed-loop runner, metrics, CLI: the only package that touches highway-env."""
__all__: list[str] = []
