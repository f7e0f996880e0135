"""Template for a new variant: real code that `tests/test_interface.py` builds and trains.

Copy this file to `variants/<name>.py`, rename the classes, fill in the losses, and register it
(and its presets) at the bottom of your file; the package finds it. Nothing else changes: the
trainer, the shared config and the CLI take your phases, options and exports as they are.
This template is a complete (if plain) GAN on MLP networks, so it is not registered itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.config import TrainConfig
from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.nets.mlp import MLPDiscriminator, MLPGenerator
from ganforge.options import opt
from ganforge.variants.base import Phase, Terms, Variant


@dataclass
class TemplateOptions:
    """Your variant's own options: one typed field each, with help and the allowed range.
    `ganforge train MODEL --help` lists them; config files and flags set them."""

    real_weight: float = opt(1.0, "template: weight of D's loss on real data", gt=0)

    def check(self) -> None:
        """Rules that join several options (optional): raise ConfigError with the fix."""


class TemplateVariant(Variant):
    """G(z) against D(x) with the non-saturating loss (Goodfellow et al. 2014)."""

    Options = TemplateOptions

    def __init__(self, cfg: TrainConfig, spec: DataSpec) -> None:
        super().__init__()
        self.opts: TemplateOptions = cfg.options or TemplateOptions()
        self.latent_dim = cfg.latent_dim
        h, images = cfg.hidden, spec.kind == "image"
        self.generator = MLPGenerator(cfg.latent_dim, spec.shape, (h, 2 * h), images, images)
        self.discriminator = MLPDiscriminator(spec.shape, (2 * h, h))

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """Which parameters each phase's optimiser updates (several networks may share one)."""
        return {"D": list(self.discriminator.parameters()), "G": list(self.generator.parameters())}

    def phases(self, n_critic: int) -> list[Phase]:
        """The order of the optimiser steps in a training step (the default is shown)."""
        return [Phase("D", self.discriminator_loss, after=self.after_discriminator_step),
                Phase("G", self.generator_loss, every=n_critic, ema=True)]

    def noise(self, n: int, gen: torch.Generator | None = None) -> dict[str, Tensor]:
        """Generator inputs (z, labels, codes, …); a translation variant would read images."""
        z = torch.randn(n, self.latent_dim, generator=gen, device="cpu" if gen else self.device)
        return {"z": z.to(self.device)}

    def generate(self, inputs: dict[str, Tensor], net: nn.Module | None = None) -> Tensor:
        """`net` is the EMA copy of the generator when --ema is on."""
        return (net or self.generator)(inputs["z"])

    def discriminator_loss(self, batch: Batch) -> Terms:
        """The total under "loss"; other entries are logged (detach them)."""
        with torch.no_grad():
            fake = self.generate(self.noise(batch.size))
        real_out, fake_out = self.discriminator(batch.x), self.discriminator(fake)
        real = F.binary_cross_entropy_with_logits(real_out, torch.ones_like(real_out))
        loss = self.opts.real_weight * real + F.binary_cross_entropy_with_logits(
            fake_out, torch.zeros_like(fake_out))
        return {"loss": loss, "d_real": torch.sigmoid(real_out).mean().detach(),
                "d_fake": torch.sigmoid(fake_out).mean().detach()}

    def generator_loss(self, batch: Batch) -> Terms:
        out = self.discriminator(self.generate(self.noise(batch.size)))
        return {"loss": F.binary_cross_entropy_with_logits(out, torch.ones_like(out))}

    @torch.no_grad()
    def critic(self, x: Tensor) -> Tensor:
        """Optional: D's probability that x is real, drawn under the toy-data pictures."""
        return torch.sigmoid(self.discriminator(x))


# Register at the bottom of your own file (the template itself stays out of `ganforge list`):
#   register_variant("myvariant", MyVariant, "one line for `ganforge list`")
#   PRESETS.register("mymodel", {"variant": "myvariant", "lr_g": 2e-4, …}, "one line")
