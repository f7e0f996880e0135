"""Pix2Pix (Isola et al. 2017, "Image-to-image translation with conditional adversarial
networks"): a U-Net G maps the input image x to y, and a 70x70 PatchGAN D judges (x, y) pairs,
input and output concatenated as channels. The objective (their eq. 4) is

    G* = arg min_G max_D L_cGAN(G, D) + lambda L_L1(G),   L_L1 = E ||y - G(x)||_1,  lambda = 100,

with D's loss halved "to slow down the rate at which D learns relative to G" (§3.3), Adam 2e-4
(beta1 0.5), batch 1, the learning rate constant for half the run and then linearly decayed to 0.
As in the official code, G's output is computed once a step: G's phase runs first and D then
judges that same output (detached), so D and G see the same dropout noise and G runs one
forward pass a step, not two.
G has no noise input: dropout 0.5 in its inner decoder blocks is the only noise (§3.1), kept at
test time by the paper (`--translate-mode train`) and off by default here (`eval`, which the
previews use too, so what training shows is what `translate` gives). With `--lambda-gan 0` D is
dropped and the same U-Net is trained with L1 alone: the paper's blurry baseline (Fig. 4).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ganforge.config import TrainConfig
from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.losses import make_loss
from ganforge.nets.patchgan import PatchDiscriminator
from ganforge.nets.unet import UNetGenerator
from ganforge.options import opt
from ganforge.presets import PRESETS
from ganforge.variants.base import Nets, Phase, Preview, Terms, register_variant
from ganforge.variants.translation import (
    TRANSLATE_MODES,
    TranslationVariant,
    d_loss_halved,
    g_adv,
    held_out_images,
    require_pairing,
    rows_of,
    run_generator,
)


@dataclass
class Pix2PixOptions:
    """pix2pix's own options."""

    lambda_l1: float = opt(100.0, "pix2pix: weight lambda of the L1 term (paper: 100)", ge=0)
    lambda_gan: float = opt(1.0, "pix2pix: weight of the adversarial term; 0 trains the U-Net "
                            "with L1 alone (the paper's baseline, no D)", ge=0)
    norm: str = opt("batch", "pix2pix: normalisation in G and D: batch or instance",
                    choices=("batch", "instance"))
    d_layers: int = opt(3, "pix2pix: PatchGAN conv layers (3 = 70x70 patches)", ge=1)
    translate_mode: str = opt("eval", "pix2pix: G's mode when translating and in previews: "
                              "eval, or train (dropout and batch statistics at test time, as "
                              "the paper)", choices=TRANSLATE_MODES)


class Pix2Pix(TranslationVariant):
    """U-Net G(x) against PatchGAN D(x, y)."""

    Options = Pix2PixOptions

    def __init__(self, cfg: TrainConfig, spec: DataSpec) -> None:
        super().__init__()
        require_pairing(cfg, spec, "pix2pix", ("paired",))
        self.opts: Pix2PixOptions = cfg.options or Pix2PixOptions()
        c_in, size, _ = spec.shape
        c_out = spec.target_shape[0]
        self.generator = UNetGenerator(c_in, c_out, size, cfg.width, self.opts.norm)
        self.discriminator = PatchDiscriminator(c_in + c_out, cfg.width, self.opts.d_layers,
                                                self.opts.norm)
        self.adv = make_loss(cfg.loss)
        self.probabilistic = self.adv.probabilistic
        self._fake: Tensor | None = None
        self._fake_step = -1

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        groups = {"G": list(self.generator.parameters())}
        if self.opts.lambda_gan > 0:
            groups["D"] = list(self.discriminator.parameters())
        return groups

    def phases(self, n_critic: int) -> list[Phase]:
        g = Phase("G", self.generator_loss, every=n_critic, ema=True)
        return [g, Phase("D", self.discriminator_loss)] if self.opts.lambda_gan > 0 else [g]

    def generate(self, inputs: dict[str, Tensor], net: nn.Module | None = None) -> Tensor:
        return (net or self.generator)(inputs["a"])

    def discriminator_loss(self, batch: Batch) -> Terms:
        a, b = _pair(batch)
        fake = self._fake if self._fake_step == self.step else None
        if fake is None:  # G's phase did not run this step (--n-critic > 1)
            with torch.no_grad():
                fake = self.generator(a)
        real_out = self.discriminator(torch.cat([a, b], 1))  # (B, 1, H', W') patch scores
        fake_out = self.discriminator(torch.cat([a, fake], 1))
        loss = d_loss_halved(self.adv, real_out, fake_out)
        return {"loss": loss, "d_real": self.adv.d_prob(real_out),
                "d_fake": self.adv.d_prob(fake_out)}

    def generator_loss(self, batch: Batch) -> Terms:
        a, b = _pair(batch)
        fake = self.generator(a)
        self._fake, self._fake_step = fake.detach(), self.step  # for D's phase, this step
        l1 = (fake - b).abs().mean()
        terms: Terms = {"loss": self.opts.lambda_l1 * l1, "l1": l1.detach()}
        if self.opts.lambda_gan > 0:
            adv = g_adv(self.adv, self.discriminator(torch.cat([a, fake], 1)))
            terms["loss"] = terms["loss"] + self.opts.lambda_gan * adv
            terms["adv"] = adv.detach()
        return terms

    def translate(self, images: Tensor, nets: Nets, direction: str = "AtoB",
                  **target: object) -> Tensor:
        """G(images) in the documented translate mode."""
        net = nets["generator"]
        return run_generator(net, self.opts.translate_mode, lambda: net(images))

    def preview_inputs(self, n: int, gen: torch.Generator, held_out: Batch | None
                       ) -> dict[str, Tensor]:
        return held_out_images(held_out, "pix2pix")

    def preview(self, inputs: dict[str, Tensor], nets: Nets) -> Preview:
        """input | output | target, one row per held-out example."""
        out = self.translate(inputs["a"], nets)
        return rows_of([inputs["a"], out, inputs["b"]])


def _pair(batch: Batch) -> tuple[Tensor, Tensor]:
    if batch.a is None or batch.b is None:
        raise ValueError("pix2pix needs batch.a and batch.b (paired images)")
    return batch.a, batch.b


register_variant("pix2pix", Pix2Pix, "U-Net G(x) vs PatchGAN D(x, y), + lambda L1 (paired data)")
PRESETS.register(
    "pix2pix",
    # Isola et al. (2017), §3.3 and appendix 6.2: facades labels -> photo (BtoA), 256 px
    # crops of 286 px images with flips, batch 1, Adam 2e-4 (0.5, 0.999), BCE (the official
    # 'vanilla' GAN loss), lambda 100, 200 epochs: 100 constant and 100 decaying linearly.
    {"variant": "pix2pix", "data": "facades", "direction": "BtoA", "image_size": 256,
     "width": 64, "loss": "nonsaturating", "optimizer": "adam", "lr_g": 2e-4, "lr_d": 2e-4,
     "beta1": 0.5, "beta2": 0.999, "batch_size": 1, "n_critic": 1, "epochs": 200,
     "lr_policy": "linear", "lr_decay_start": 0.5, "grid_size": 8},
    "pix2pix (Isola et al. 2017): U-Net + 70x70 PatchGAN + L1, paired data (facades)",
)
