"""Conditional GAN (Mirza & Osindero 2014): the label y enters both networks, G(z, y) and
D(x, y), in the minimax game of their eq. 2: min_G max_D E[log D(x|y)] + E[log(1 - D(G(z|y)|y))].

In phase D the fakes are drawn with the real batch's labels, so real and fake carry the same label
distribution and a gradient penalty (WGAN-GP) has one label per interpolate. Any adversarial loss,
MLP or conv networks, and every trick apply (see ganforge.tricks).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganforge.config import TrainConfig
from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.losses import clip_weights, make_loss
from ganforge.nets.build import build_discriminator, build_generator
from ganforge.tricks.bundle import Critic, Tricks, finish_generator
from ganforge.variants.base import Terms, register_variant
from ganforge.variants.conditional import (
    ClassConditional,
    LabelledDiscriminator,
    LabelledGenerator,
    batch_labels,
    require_classes,
    spatial_labels,
)


class CGAN(ClassConditional):
    """G(z, y) against D(x, y), labels one-hot."""

    def __init__(self, cfg: TrainConfig, spec: DataSpec) -> None:
        super().__init__()
        self.num_classes = k = require_classes(cfg, spec, "cgan")
        self.latent_dim = cfg.latent_dim
        d_net = build_discriminator(cfg, spec, in_extra=k)
        self.discriminator = LabelledDiscriminator(d_net, k, spatial_labels(cfg, spec))
        self.generator = LabelledGenerator(build_generator(cfg, spec, in_extra=k), k)
        self.generator = finish_generator(cfg, self.generator, self.noise)
        self.adv = make_loss(cfg.loss)
        self.probabilistic = self.adv.probabilistic
        self.clip = cfg.clip
        self.tricks = Tricks(cfg, spec, self.param_groups())

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"D": list(self.discriminator.parameters()), "G": list(self.generator.parameters())}

    def _critic(self, y: Tensor) -> Critic:
        return lambda x: self.discriminator.forward_features(x, y)

    def _fake(self, y: Tensor) -> Tensor:
        inputs = self.noise(y.shape[0])
        inputs["y"] = y
        return self.generate(inputs)

    def discriminator_loss(self, batch: Batch) -> Terms:
        y = batch_labels(batch)
        with torch.no_grad():
            fake = self._fake(y)
        terms, _ = self.tricks.d_terms(self._critic(y), batch.x, fake, self.step, self.adv)
        return terms

    def generator_loss(self, batch: Batch) -> Terms:
        y = batch_labels(batch)
        terms, _ = self.tricks.g_terms(self._critic(y), self._fake(y), batch.x, self.step, self.adv)
        return terms

    def after_discriminator_step(self) -> None:
        if self.clip > 0:
            clip_weights(self.discriminator, self.clip)


register_variant("cgan", CGAN, "G(z, y) vs D(x, y): the label enters both networks")
