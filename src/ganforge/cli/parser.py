"""argparse with one-line errors, and flags generated from TrainConfig's fields."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any, NoReturn

from ganforge.config import TrainConfig
from ganforge.options import field_types, flag


class OneLineParser(argparse.ArgumentParser):
    """Bad flags give one line naming the problem and where to look, exit status 2."""

    def error(self, message: str) -> NoReturn:
        if "unrecognized arguments" in message:
            valid = ", ".join(sorted(a for act in self._actions for a in act.option_strings
                                     if a.startswith("--")))
            message = f"{message}; valid options: {valid}"
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def add_option_flags(parser: argparse.ArgumentParser | Any, cls: type,
                     seen: set[str] | None = None) -> None:
    """One flag per field of the options dataclass `cls`; unset flags stay absent so presets
    and config files apply. Names in `seen` are skipped (and the new ones added to it)."""
    seen = set() if seen is None else seen
    kinds = field_types(cls)
    for f in dataclasses.fields(cls):
        if not f.metadata.get("cli", True) or f.name in seen:
            continue
        seen.add(f.name)
        kind = kinds[f.name][0]
        help_text = f"{f.metadata.get('help', '')} (default: {f.default})"
        if kind is bool:
            parser.add_argument(flag(f.name), dest=f.name, action=argparse.BooleanOptionalAction,
                                default=argparse.SUPPRESS, help=help_text)
        else:
            parser.add_argument(flag(f.name), dest=f.name, type=kind, default=argparse.SUPPRESS,
                                metavar=kind.__name__.upper(), help=help_text)


def add_config_flags(parser: argparse.ArgumentParser, variants: list[str] | None = None) -> None:
    """The shared options, then the own options of each of `variants` (all when None) in a
    group of its own."""
    from ganforge.variants import VARIANTS

    seen: set[str] = set()
    add_option_flags(parser, TrainConfig, seen)
    for name in variants if variants is not None else VARIANTS.names():
        cls = VARIANTS.get(name).Options
        if cls is not None:
            group = parser.add_argument_group(f"options of the {name} variant")
            add_option_flags(group, cls, seen)
