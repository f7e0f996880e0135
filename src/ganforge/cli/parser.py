"""argparse with one-line errors, and flags generated from TrainConfig's fields."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import types
import typing
from typing import Any, NoReturn

from ganforge.config import TrainConfig


class OneLineParser(argparse.ArgumentParser):
    """Bad flags give one line naming the problem and where to look, exit status 2."""

    def error(self, message: str) -> NoReturn:
        if "unrecognized arguments" in message:
            valid = ", ".join(sorted(a for act in self._actions for a in act.option_strings
                                     if a.startswith("--")))
            message = f"{message}; valid options: {valid}"
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def _base_type(annotation: Any) -> type:
    """`int | None` -> int, `float` -> float, …"""
    hint = eval(annotation, vars(typing)) if isinstance(annotation, str) else annotation  # noqa: S307
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return hint  # type: ignore[no-any-return]


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field; unset flags stay absent so presets and files apply."""
    for f in dataclasses.fields(TrainConfig):
        if not f.metadata.get("cli", True):
            continue
        flag = "--" + f.name.replace("_", "-")
        kind = _base_type(f.type)
        help_text = f"{f.metadata.get('help', '')} (default: {f.default})"
        if kind is bool:
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction,
                                default=argparse.SUPPRESS, help=help_text)
        else:
            parser.add_argument(flag, dest=f.name, type=kind, default=argparse.SUPPRESS,
                                metavar=kind.__name__.upper(), help=help_text)
