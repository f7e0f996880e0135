"""Registered variants. Each variant module registers itself at its bottom
(`register_variant`) and may register its presets; this package imports every module in it, so
adding a model is a new file here (and its networks), with no edit anywhere else."""

from __future__ import annotations

import importlib
import pkgutil

from ganforge.config import TrainConfig
from ganforge.data.spec import DataSpec
from ganforge.variants.base import VARIANTS, Translator, Variant

#: Modules of this package that hold shared pieces, not variants.
_HELPERS = ("base", "conditional", "template")

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _HELPERS:
        importlib.import_module(f"{__name__}.{_module.name}")


def build_variant(cfg: TrainConfig, spec: DataSpec) -> Variant:
    """Instantiate the variant named by `cfg.variant` for data described by `spec`."""
    return VARIANTS.get(cfg.variant)(cfg, spec)  # type: ignore[call-arg]


def options_class(variant: str) -> type | None:
    """The dataclass of a variant's own options (None when it has none)."""
    return VARIANTS.get(variant).Options


__all__ = ["VARIANTS", "DataSpec", "Translator", "Variant", "build_variant", "options_class"]
