"""Builder layer: YAML files + ``--set key=value`` overrides -> typed, frozen config dataclasses."""
from __future__ import annotations

import dataclasses
import types
import typing
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from perception.lookup import Registry

CONFIG_DIR = Path(str(resources.files("sim") / "configs"))
"""The shipped YAML configs: package data of ``sim`` (found the same way from a wheel or a checkout;
the checkout's top-level ``configs`` is a link to it)."""


def load_yaml(path: Path) -> dict:
    """Read one YAML mapping; a bad path or malformed file is a ValueError with the file name."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except FileNotFoundError as exc:
        raise ValueError(f"config file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"malformed YAML in {path}: {(str(exc).splitlines() or [type(exc).__name__])[0]}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"config file {path} must hold a mapping, got {type(data).__name__}")
    return data


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply ``a.b.c=value`` overrides (values parsed as YAML scalars) to a nested dict copy."""
    out = _deep_copy(data)
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override '{item}' must look like key.path=value")
        key, raw = item.split("=", 1)
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"override '{key}': '{part}' is not a section")
        try:
            node[parts[-1]] = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise ValueError(f"override '{key}': cannot parse the value {raw!r} "
                             f"({(str(exc).splitlines() or ['YAML error'])[0]})") from None
    return out


def _deep_copy(data: Any) -> Any:
    return {k: _deep_copy(v) for k, v in data.items()} if isinstance(data, dict) else data


def from_dict(cls: type, data: Mapping[str, Any], path: str = "") -> Any:
    """Build dataclass ``cls`` from a mapping; unknown keys and bad values raise ValueError."""
    if not isinstance(data, Mapping):
        raise ValueError(f"config section '{path.rstrip('.') or cls.__name__}' must be a mapping")
    keys = Registry("config key", {f"{path}{f.name}": f for f in dataclasses.fields(cls)})
    for key in sorted(data):
        keys.check(f"{path}{key}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {k: _in_range(fields[k], _coerce(hints[k], v, f"{path}{k}"), f"{path}{k}") for k, v in data.items()}
    return cls(**kwargs)


def _in_range(f: dataclasses.Field, value: Any, key: str) -> Any:
    """Check a value against its field's ``metadata['range'] = (low, high)`` (None: unbounded; a low
    of ``(x,)`` excludes x); lists are checked element by element, and must not be empty where
    ``metadata['nonempty']`` is set."""
    bounds = f.metadata.get("range")
    if bounds is None:
        return value
    lo, hi = bounds
    for v in (value if isinstance(value, tuple) else (value,)):
        open_lo = isinstance(lo, tuple)
        low = lo[0] if open_lo else lo
        if (low is not None and (v <= low if open_lo else v < low)) or (hi is not None and v > hi):
            text = f"{'(' if open_lo else '['}{'-inf' if low is None else low}, {'inf' if hi is None else hi}]"
            raise ValueError(f"config key '{key}' must lie in {text}, got {value!r}")
    if isinstance(value, tuple) and not value and f.metadata.get("nonempty"):
        raise ValueError(f"config key '{key}' needs at least one value")
    return value


def _coerce(tp: Any, value: Any, key: str) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, key)
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, key + ".")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"config key '{key}' expects a list, got {value!r}")
        return tuple(_coerce(args[0], v, key) for v in value)
    if origin in (dict, typing.Mapping) or tp in (dict, Mapping) or origin is Mapping:
        if not isinstance(value, Mapping):
            raise ValueError(f"config key '{key}' expects a mapping, got {value!r}")
        return dict(value)
    return _scalar(tp, value, key)


def _scalar(tp: Any, value: Any, key: str) -> Any:
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"config key '{key}' expects a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"config key '{key}' expects an integer, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ValueError(f"config key '{key}' expects true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ValueError(f"config key '{key}' expects a string, got {value!r}")
        return value
    return value


def to_dict(obj: Any) -> Any:
    """Dataclass (nested) -> plain dict, for writing the config used into result files."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (tuple, list)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, Mapping):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj
