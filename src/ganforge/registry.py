"""Explicit, loud registries: duplicates are refused, unknown names list the valid ones."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from ganforge.errors import ConfigError, choices_error

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> object table for one kind of thing (models, losses, …)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._help: dict[str, str] = {}

    def register(self, name: str, item: T, help: str = "") -> T:
        """Add `item` under `name`; a second registration of a name is an error."""
        if name in self._items:
            raise ConfigError(f"{self.kind} '{name}' is registered twice")
        self._items[name] = item
        self._help[name] = help
        return item

    def get(self, name: str) -> T:
        """Look `name` up, failing with the list of valid names."""
        if name not in self._items:
            raise choices_error(self.kind, name, list(self._items))
        return self._items[name]

    def help(self, name: str) -> str:
        """The one-line description given at registration."""
        return self._help[name]

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
