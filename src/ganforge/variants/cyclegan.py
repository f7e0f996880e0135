"""CycleGAN (Zhu et al. 2017, "Unpaired image-to-image translation using cycle-consistent
adversarial networks"): two ResNet generators G: A -> B and F: B -> A, two 70x70 PatchGAN
discriminators D_B (judges B) and D_A (judges A), trained on unpaired images with (their eq. 3)

    L = L_GAN(G, D_B) + L_GAN(F, D_A) + lambda L_cyc(G, F),   lambda = 10,
    L_cyc = E ||F(G(a)) - a||_1 + E ||G(F(b)) - b||_1,

plus the identity term lambda_id * lambda * (E ||G(b) - b||_1 + E ||F(a) - a||_1) (§5.2, 0.5 in
the official code). §4: the least-squares GAN loss, D updated on a pool of the 50 latest fakes
(Shrivastava et al. 2017), D's loss halved, Adam 2e-4 (0.5, 0.999), batch 1, the learning rate
constant for the first half of training and linearly decayed to 0 over the second. As in the
official code, both generators are updated first, then both discriminators, on the fakes of
that same step. The image pools (their images and random generator) are part of the state, so
a resumed run continues bitwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ganforge.config import TrainConfig
from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.losses import make_loss
from ganforge.losses.translation import cycle_loss, identity_loss
from ganforge.nets.patchgan import PatchDiscriminator
from ganforge.nets.resnet import ResnetGenerator, blocks_for
from ganforge.options import opt
from ganforge.presets import PRESETS
from ganforge.tricks.image_pool import ImagePool
from ganforge.variants.base import Nets, Phase, Preview, Terms, register_variant
from ganforge.variants.translation import (
    TranslationVariant,
    d_loss_halved,
    g_adv,
    held_out_images,
    require_pairing,
    rows_of,
    run_generator,
)


@dataclass
class CycleGANOptions:
    """cyclegan's own options."""

    lambda_cycle: float = opt(10.0, "cyclegan: weight lambda of the cycle losses", ge=0)
    lambda_identity: float = opt(0.5, "cyclegan: identity loss weight, times --lambda-cycle "
                                 "(0 = off)", ge=0)
    pool_size: int = opt(50, "cyclegan: fakes kept in each image pool for D (0 = off)", ge=0)
    blocks: int = opt(0, "cyclegan: residual blocks per generator (0 = the paper's: 6 up to "
                      "128 px, 9 at 256)", ge=0)
    norm: str = opt("instance", "cyclegan: normalisation in G and D: instance or batch",
                    choices=("instance", "batch"))


class CycleGAN(TranslationVariant):
    """G_AB, G_BA against D_A, D_B, with cycle and identity losses."""

    Options = CycleGANOptions
    directions = ("AtoB", "BtoA")

    def __init__(self, cfg: TrainConfig, spec: DataSpec) -> None:
        super().__init__()
        require_pairing(cfg, spec, "cyclegan", ("unpaired", "paired"))
        self.opts: CycleGANOptions = cfg.options or CycleGANOptions()
        (ca, size, _), cb = spec.shape, spec.target_shape[0]
        blocks, norm, w = self.opts.blocks or blocks_for(size), self.opts.norm, cfg.width
        self.g_ab = ResnetGenerator(ca, cb, w, blocks, norm)
        self.g_ba = ResnetGenerator(cb, ca, w, blocks, norm)
        self.generator = self.g_ab
        self.d_a, self.d_b = PatchDiscriminator(ca, w, 3, norm), PatchDiscriminator(cb, w, 3, norm)
        self.pool_a = ImagePool(self.opts.pool_size, (ca, size, size), seed=cfg.seed * 2 + 1)
        self.pool_b = ImagePool(self.opts.pool_size, (cb, size, size), seed=cfg.seed * 2 + 2)
        self.adv = make_loss(cfg.loss)
        self.probabilistic = self.adv.probabilistic
        self.identity = self.opts.lambda_identity > 0 and ca == cb
        self._fakes: tuple[Tensor, Tensor] | None = None
        self._fakes_step = -1

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"G": [*self.g_ab.parameters(), *self.g_ba.parameters()],
                "D": [*self.d_a.parameters(), *self.d_b.parameters()]}

    def phases(self, n_critic: int) -> list[Phase]:
        """Both generators first, then both discriminators on the same step's fakes."""
        return [Phase("G", self.generator_loss, every=n_critic, ema=True),
                Phase("D", self.discriminator_loss)]

    def exports(self) -> Nets:
        return {"g_ab": self.g_ab, "g_ba": self.g_ba}

    def generate(self, inputs: dict[str, Tensor], net: nn.Module | None = None) -> Tensor:
        return (net or self.g_ab)(inputs["a"])

    def generator_loss(self, batch: Batch) -> Terms:
        a, b = _domains(batch)
        fake_b, fake_a = self.g_ab(a), self.g_ba(b)  # (B, C, H, W) each
        adv_ab, adv_ba = g_adv(self.adv, self.d_b(fake_b)), g_adv(self.adv, self.d_a(fake_a))
        cyc_a, cyc_b = cycle_loss(a, self.g_ba(fake_b)), cycle_loss(b, self.g_ab(fake_a))
        lam = self.opts.lambda_cycle
        loss = adv_ab + adv_ba + lam * (cyc_a + cyc_b)
        terms: Terms = {"adv_ab": adv_ab.detach(), "adv_ba": adv_ba.detach(),
                        "cycle_a": cyc_a.detach(), "cycle_b": cyc_b.detach()}
        if self.identity:
            idt_b, idt_a = identity_loss(b, self.g_ab(b)), identity_loss(a, self.g_ba(a))
            loss = loss + lam * self.opts.lambda_identity * (idt_a + idt_b)
            terms.update(idt_a=idt_a.detach(), idt_b=idt_b.detach())
        self._fakes, self._fakes_step = (fake_a.detach(), fake_b.detach()), self.step
        return {"loss": loss, **terms}

    def discriminator_loss(self, batch: Batch) -> Terms:
        a, b = _domains(batch)
        if self._fakes is None or self._fakes_step != self.step:  # G did not run this step
            with torch.no_grad():
                self._fakes = (self.g_ba(b), self.g_ab(a))
        fake_a, fake_b = self.pool_a.query(self._fakes[0]), self.pool_b.query(self._fakes[1])
        real_b, pooled_b = self.d_b(b), self.d_b(fake_b)
        loss_b = d_loss_halved(self.adv, real_b, pooled_b)
        loss_a = d_loss_halved(self.adv, self.d_a(a), self.d_a(fake_a))
        return {"loss": loss_a + loss_b, "d_a": loss_a.detach(), "d_b": loss_b.detach(),
                "d_real": self.adv.d_prob(real_b),
                "d_fake": self.adv.d_prob(pooled_b)}

    def translate(self, images: Tensor, nets: Nets, direction: str = "AtoB",
                  **target: object) -> Tensor:
        """G_AB (AtoB) or G_BA (BtoA) of `images`; InstanceNorm and no dropout make the train
        and eval modes give the same output."""
        net = nets["g_ab" if direction == "AtoB" else "g_ba"]
        return run_generator(net, "eval", lambda: net(images))

    def preview_inputs(self, n: int, gen: torch.Generator, held_out: Batch | None
                       ) -> dict[str, Tensor]:
        return held_out_images(held_out, "cyclegan")

    def preview(self, inputs: dict[str, Tensor], nets: Nets) -> Preview:
        """real_A | fake_B | rec_A | real_B | fake_A | rec_B, one row per held-out pair."""
        a, b = inputs["a"], inputs["b"]
        fake_b, fake_a = self.translate(a, nets, "AtoB"), self.translate(b, nets, "BtoA")
        rec_a, rec_b = self.translate(fake_b, nets, "BtoA"), self.translate(fake_a, nets, "AtoB")
        return rows_of([a, fake_b, rec_a, b, fake_a, rec_b])


def _domains(batch: Batch) -> tuple[Tensor, Tensor]:
    if batch.a is None or batch.b is None:
        raise ValueError("cyclegan needs batch.a and batch.b (images of domains A and B)")
    return batch.a, batch.b


register_variant("cyclegan", CycleGAN,
                 "G: A -> B and F: B -> A vs D_B, D_A, + cycle and identity losses (unpaired)")
PRESETS.register(
    "cyclegan",
    # Zhu et al. (2017), §4 and appendix 7.1: LSGAN loss, lambda 10, identity 0.5 x lambda,
    # pools of 50, Adam 2e-4 (0.5, 0.999), batch 1, 256 px crops of 286 px images, 200 epochs:
    # 100 at the base rate, 100 decaying linearly to 0. ngf = ndf = 64.
    {"variant": "cyclegan", "data": "horse2zebra", "image_size": 256, "width": 64,
     "loss": "lsgan", "optimizer": "adam", "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5,
     "beta2": 0.999, "batch_size": 1, "n_critic": 1, "epochs": 200, "lr_policy": "linear",
     "lr_decay_start": 0.5, "grid_size": 4},
    "CycleGAN (Zhu et al. 2017): two ResNet G, two PatchGAN D, cycle + identity losses",
)
