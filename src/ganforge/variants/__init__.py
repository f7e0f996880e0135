"""Registered variants. Add one: a file from template.py, one line here, a preset."""

from __future__ import annotations

from collections.abc import Callable

from ganforge.config import TrainConfig
from ganforge.data.spec import DataSpec
from ganforge.registry import Registry
from ganforge.variants.acgan import ACGAN
from ganforge.variants.base import Variant
from ganforge.variants.cgan import CGAN
from ganforge.variants.infogan import InfoGAN
from ganforge.variants.unconditional import Unconditional

VariantFactory = Callable[[TrainConfig, DataSpec], Variant]

VARIANTS: Registry[VariantFactory] = Registry("variant")
VARIANTS.register("unconditional", Unconditional, "G(z) vs D(x) with any loss")
VARIANTS.register("cgan", CGAN, "G(z, y) vs D(x, y): the label enters both networks")
VARIANTS.register("acgan", ACGAN, "G(z, y) vs D(x) -> (real/fake, class)")
VARIANTS.register("infogan", InfoGAN, "G(z, c) vs D(x), Q(c | x) maximises a bound on I(c; x)")


def build_variant(cfg: TrainConfig, spec: DataSpec) -> Variant:
    """Instantiate the variant named by `cfg.variant` for data described by `spec`."""
    return VARIANTS.get(cfg.variant)(cfg, spec)


__all__ = ["VARIANTS", "DataSpec", "Variant", "build_variant"]
