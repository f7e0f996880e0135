"""Typed options: dataclass fields that carry their help, range and choices, and one checker that
holds every value, from a flag or a config file alike, to its field's type and range.

    lr_g: float = opt(2e-4, "generator learning rate", gt=0)
    on_failure: str = opt("warn", "what a failure does", choices=("warn", "stop"))

The shared `TrainConfig` and each variant's own options class are declared this way, so a wrong
type, a NaN, an infinity or an out-of-range number fails in one line that names the option, the
value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import os
import reprlib
import types
import typing
from dataclasses import Field, field
from typing import Any

from ganforge.errors import ConfigError

CHECKED = (int, float, bool, str)  # the field types a user can set


def opt(default: Any, help: str, *, gt: float | None = None, ge: float | None = None,
        lt: float | None = None, le: float | None = None,
        choices: tuple[str, ...] | None = None, cli: bool = True) -> Any:
    """A dataclass field with its help text and the values it accepts."""
    meta = {"help": help, "gt": gt, "ge": ge, "lt": lt, "le": le, "choices": choices, "cli": cli}
    return field(default=default, metadata=meta)


def flag(name: str) -> str:
    """`batch_size` -> `--batch-size`."""
    return "--" + name.replace("_", "-")


def base_type(hint: Any) -> tuple[type, bool]:
    """`int | None` -> (int, True), `float` -> (float, False)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0], True
    return hint, False


def field_types(cls: type) -> dict[str, tuple[type, bool]]:
    """Each field's base type and whether it may be None."""
    hints = typing.get_type_hints(cls)
    return {f.name: base_type(hints[f.name]) for f in dataclasses.fields(cls)}


_REPR = reprlib.Repr()
_REPR.maxstring, _REPR.maxother, _REPR.maxlevel = 60, 60, 3


def shown(value: object) -> str:
    """A bounded one-line repr of a value a user or a file gave (however big or nested)."""
    return " ".join(_REPR.repr(value).split())


def _range_text(meta: typing.Mapping[str, Any]) -> str:
    parts = [f"{sym} {meta[key]:g}" for key, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"),
                                                     ("le", "<=")) if meta.get(key) is not None]
    return " and ".join(parts)


def _coerce(name: str, value: Any, kind: type) -> Any:
    """`value` as `kind`, or a ConfigError naming the option and the type it needs."""
    wanted = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
    ok = (kind is bool and isinstance(value, bool)
          or kind is str and isinstance(value, str)
          or kind is int and isinstance(value, int) and not isinstance(value, bool)
          or kind is float and isinstance(value, (int, float)) and not isinstance(value, bool))
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind is str and isinstance(value, os.PathLike):  # out=Path(...) from the Python API
        return os.fspath(value)
    if not ok:
        raise ConfigError(f"{flag(name)} must be {wanted.get(kind, kind.__name__)}, "
                          f"got {shown(value)} ({type(value).__name__})")
    return float(value) if kind is float else value


def check_field(f: Field[Any], kind: type, optional: bool, value: Any) -> Any:
    """One value held to its field's type, finiteness, range and choices; returns it coerced."""
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{flag(f.name)} needs a value; it cannot be empty (null)")
    value = _coerce(f.name, value, kind)
    meta = f.metadata
    if kind is float and not math.isfinite(value):
        raise ConfigError(f"{flag(f.name)} must be a finite number, got {value}")
    bounds = (("gt", lambda v, b: v > b), ("ge", lambda v, b: v >= b),
              ("lt", lambda v, b: v < b), ("le", lambda v, b: v <= b))
    for key, holds in bounds:
        if meta.get(key) is not None and not holds(value, meta[key]):
            raise ConfigError(f"{flag(f.name)} must be {_range_text(meta)}, got {shown(value)}")
    choices = meta.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"unknown {flag(f.name)} value {shown(value)}; choose from: "
                          f"{', '.join(choices)}")
    return value


def check_values(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """Every entry of `values` (named like `cls`'s fields) checked and coerced."""
    types_ = field_types(cls)
    by_name = {f.name: f for f in dataclasses.fields(cls)}
    return {k: check_field(by_name[k], *types_[k], v) if types_[k][0] in CHECKED else v
            for k, v in values.items()}


def check_dataclass(obj: Any) -> None:
    """Check every field of a dataclass instance in place (values set by code, not by users)."""
    values = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    for name, value in check_values(type(obj), values).items():
        object.__setattr__(obj, name, value)
