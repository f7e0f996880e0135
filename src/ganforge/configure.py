"""Building a `TrainConfig` from what a user gave: preset < config file < flags, with the keys
checked against the shared options plus the chosen variant's own, and every value held to its
type and range. The CLI, the Python API and run folders all come through `make_config`."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from ganforge.config import FIELD_NAMES, TRICK_OPTIONS, TrainConfig, validate
from ganforge.errors import ConfigError
from ganforge.options import check_values, flag
from ganforge.presets import PRESETS
from ganforge.variants import VARIANTS, options_class

DEFAULT_VARIANT = "unconditional"


def own_option_names(variant: str) -> tuple[str, ...]:
    """The names of a variant's own options."""
    cls = options_class(variant)
    return tuple(f.name for f in dataclasses.fields(cls)) if cls else ()


def valid_names(variant: str) -> tuple[str, ...]:
    """Every option a config for `variant` accepts: the shared ones, then its own."""
    return (*FIELD_NAMES, *own_option_names(variant))


def normalise(values: Mapping[Any, Any], where: str, valid: Iterable[str] | None = None
              ) -> dict[str, Any]:
    """`batch-size` -> `batch_size`; with `valid`, unknown keys are refused with the list."""
    allowed = tuple(valid) if valid is not None else None
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = str(key).replace("-", "_")
        if allowed is not None and name not in allowed:
            names = ", ".join(n.replace("_", "-") for n in allowed)
            raise ConfigError(f"unknown option '{key}' in {where}; valid options: {names}")
        out[name] = value
    return out


def preset_values(name: str) -> dict[str, Any]:
    """The config values of preset `name` (with `model` set), failing with the valid names."""
    values = dict(PRESETS.get(name))
    values.setdefault("variant", DEFAULT_VARIANT)
    values["model"] = name
    return values


def variant_of(values: Mapping[str, Any]) -> str:
    """The variant the values ask for, checked against the registry."""
    variant = values.get("variant", DEFAULT_VARIANT)
    if not isinstance(variant, str) or variant not in VARIANTS:
        raise ConfigError(f"unknown --variant value '{variant}'; choose from: "
                          f"{', '.join(VARIANTS.names())}")
    return variant


def make_config(values: Mapping[str, Any], where: str = "the options") -> TrainConfig:
    """A validated config from flat values (shared and variant options mixed, flag-named)."""
    variant = variant_of(values)
    flat = normalise(values, where, valid_names(variant))
    own_names = own_option_names(variant)
    own = check_values(options_class(variant) or object, {k: v for k, v in flat.items()
                                                          if k in own_names}) if own_names else {}
    shared = {k: v for k, v in flat.items() if k not in own_names}
    cls = options_class(variant)
    cfg = TrainConfig(**check_values(TrainConfig, shared), options=cls(**own) if cls else None)
    _refuse_tricks(cfg, variant)
    return validate(cfg)


def _refuse_tricks(cfg: TrainConfig, variant: str) -> None:
    """A trick set on a variant that does not use the shared tricks is an error, not a no-op."""
    if VARIANTS.get(variant).uses_tricks:
        return
    defaults = TrainConfig()
    for name in TRICK_OPTIONS:
        if getattr(cfg, name) != getattr(defaults, name):
            raise ConfigError(f"{flag(name)} does not apply to {cfg.model} (the {variant} "
                              "variant has its own losses and networks); drop it")


def model_config(model: str, options: Mapping[str, Any], where: str = "the options"
                 ) -> TrainConfig:
    """A preset's values overridden by `options` (named like the flags)."""
    values = preset_values(model)
    variant = variant_of({**values, **normalise(options, where)})
    values.update(normalise(options, where, valid_names(variant)))
    return make_config(values, where)
