"""Registered variants. Add one: a file from template.py, one line here, a preset."""

from __future__ import annotations

from collections.abc import Callable

from ganforge.config import TrainConfig
from ganforge.registry import Registry
from ganforge.variants.base import DataSpec, Variant
from ganforge.variants.unconditional import Unconditional

VariantFactory = Callable[[TrainConfig, DataSpec], Variant]

VARIANTS: Registry[VariantFactory] = Registry("variant")
VARIANTS.register("unconditional", Unconditional, "G(z) vs D(x) with any loss")


def build_variant(cfg: TrainConfig, spec: DataSpec) -> Variant:
    """Instantiate the variant named by `cfg.variant` for data described by `spec`."""
    return VARIANTS.get(cfg.variant)(cfg, spec)


__all__ = ["VARIANTS", "DataSpec", "Variant", "build_variant"]
