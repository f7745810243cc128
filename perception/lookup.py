"""The one typed registry class behind every lookup by name in the project (scenarios, planners,
world models, detectors, algorithms, suites, tracker presets...): the one-line "unknown X 'y';
valid: a, b" error is written only here. It lives in perception, the lowest floor that every
package with a registry may import, in a module that imports nothing of ours."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """A read-only name -> value table (usually a factory) for one ``kind`` of thing."""

    def __init__(self, kind: str, entries: Mapping[str, T] | Callable[[], Mapping[str, T]]) -> None:
        self.kind = kind
        self._entries = entries
        """A mapping, or a function returning one (for tables read from disk when first needed)."""

    def _table(self) -> Mapping[str, T]:
        return self._entries() if callable(self._entries) else self._entries

    def names(self) -> list[str]:
        return sorted(self._table())

    def check(self, name: str) -> str:
        """``name`` if registered, else a ValueError naming the valid ones."""
        if name not in self._table():
            raise ValueError(f"unknown {self.kind} '{name}'; valid: {', '.join(self.names())}")
        return name

    def check_all(self, names) -> tuple[str, ...]:
        """Every name registered (and at least one)."""
        names = tuple(names)
        if not names:
            raise ValueError(f"no {self.kind} given; valid: {', '.join(self.names())}")
        return tuple(self.check(n) for n in names)

    def __getitem__(self, name: str) -> T:
        return self._table()[self.check(name)]

    def __contains__(self, name: object) -> bool:
        return name in self._table()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._table())
