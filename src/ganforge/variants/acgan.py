"""Auxiliary classifier GAN (Odena et al. 2017): G(z, c) gets the class, D gets only the image
and has two heads, P(S | X) (real or fake) and P(C | X) (the class). With (their eq. 1-2)

    L_S = E[log P(S = real | X_real)] + E[log P(S = fake | X_fake)]
    L_C = E[log P(C = c | X_real)] + E[log P(C = c | X_fake)],

D maximises L_S + L_C and G maximises L_C - L_S. Here L_S is the configured adversarial loss (the
non-saturating form for G by default, or WGAN-GP's critic) and L_C a cross-entropy. The class
head is a linear layer on D's last hidden features, exactly as a second output of D's last layer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.config import TrainConfig
from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.losses import make_loss
from ganforge.nets.build import build_discriminator, build_generator
from ganforge.nets.init import dcgan_init
from ganforge.tricks.bundle import Tricks, finish_generator
from ganforge.variants.base import SingleCriticVariant, Terms, register_variant
from ganforge.variants.conditional import (
    ClassConditional,
    LabelledGenerator,
    batch_labels,
    require_classes,
)


class ACGAN(ClassConditional, SingleCriticVariant):
    """G(z, y) against D(x) -> (source, class)."""

    def __init__(self, cfg: TrainConfig, spec: DataSpec) -> None:
        super().__init__()
        self.num_classes = k = require_classes(cfg, spec, "acgan")
        self.latent_dim = cfg.latent_dim
        self.discriminator = build_discriminator(cfg, spec)
        self.classifier = nn.Linear(self.discriminator.feature_dim, k)  # P(C | X)
        dcgan_init(self.classifier)
        self.generator = LabelledGenerator(build_generator(cfg, spec, in_extra=k), k)
        self.generator = finish_generator(cfg, self.generator, self.noise)
        self.adv = make_loss(cfg.loss)
        self.probabilistic = self.adv.probabilistic
        self.clip = cfg.clip
        self.tricks = Tricks(cfg, spec, self.param_groups())

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        d = [*self.discriminator.parameters(), *self.classifier.parameters()]
        return {"D": d, "G": list(self.generator.parameters())}

    def discriminator_loss(self, batch: Batch) -> Terms:
        y = batch_labels(batch)
        inputs = self.noise(batch.size)
        with torch.no_grad():
            fake = self.generate(inputs)
        critic = self.discriminator.forward_features
        terms, seen = self.tricks.d_terms(critic, batch.x, fake, self.step, self.adv)
        cls_real = F.cross_entropy(self.classifier(seen.real_feats), y)  # -E[log P(C=c|X_real)]
        cls_fake = F.cross_entropy(self.classifier(seen.fake_feats), inputs["y"])
        terms["loss"] = terms["loss"] + cls_real + cls_fake
        terms["d_cls"] = (cls_real + cls_fake).detach()
        with torch.no_grad():
            hits = self.classifier(seen.real_feats).argmax(1) == y
        terms["d_acc_real"] = hits.float().mean()
        return terms

    def generator_loss(self, batch: Batch) -> Terms:
        inputs = self.noise(batch.size)
        fake = self.generate(inputs)
        critic = self.discriminator.forward_features
        terms, fake_feats = self.tricks.g_terms(critic, fake, batch.x, self.step, self.adv)
        cls = F.cross_entropy(self.classifier(fake_feats), inputs["y"])  # G maximises L_C
        terms["loss"] = terms["loss"] + cls
        terms["cls"] = cls.detach()
        return terms

    @torch.no_grad()
    def classify(self, x: Tensor) -> Tensor:
        """D's class probabilities P(C | X) (B, K)."""
        return self.classifier(self.discriminator.forward_features(x)[1]).softmax(1)


register_variant("acgan", ACGAN, "G(z, y) vs D(x) -> (real/fake, class)")
