"""Weight initialisation."""

from __future__ import annotations

from torch import nn


def dcgan_init(module: nn.Module) -> None:
    """N(0, 0.02) weights for conv/linear, N(1, 0.02) scale for norms (Radford et al. 2016, §4)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
