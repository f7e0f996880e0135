"""The unconditional game: vanilla GAN, DCGAN, WGAN, WGAN-GP, LSGAN and hinge are this one
variant with another loss, penalty, optimiser and n_critic (see presets.py)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ganforge.config import TrainConfig
from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError
from ganforge.losses import make_loss
from ganforge.nets.build import build_discriminator, build_generator
from ganforge.options import opt
from ganforge.tricks.bundle import Tricks, finish_generator
from ganforge.tricks.pack import pack
from ganforge.variants.base import SingleCriticVariant, Terms, differentiable, register_variant


@dataclass
class UnconditionalOptions:
    """The unconditional variant's own options."""

    reuse_fake: bool = opt(False, "G's update reuses the fakes D was just updated on (one G "
                           "forward a step, as pytorch/examples' DCGAN loop) instead of drawing "
                           "fresh noise (Algorithm 1); needs --n-critic 1")


class Unconditional(SingleCriticVariant):
    """G(z) against D(x): Goodfellow et al. (2014) Algorithm 1 with a pluggable loss.

    With `reuse_fake` the step is the canonical DCGAN loop's instead: one batch of fakes, drawn
    with G's graph kept, serves D's update (detached) and then G's, against the updated D."""

    Options = UnconditionalOptions

    def __init__(self, cfg: TrainConfig, spec: DataSpec) -> None:
        super().__init__()
        self.opts: UnconditionalOptions = cfg.options or UnconditionalOptions()
        if self.opts.reuse_fake and cfg.n_critic != 1:
            raise ConfigError(f"--reuse-fake needs --n-critic 1 (got {cfg.n_critic}): with "
                              "several D steps per G step there is no one fake batch to share")
        self._fake: Tensor | None = None  # the D phase's fakes, with G's graph, for the G phase
        self._fake_step = -1
        self.latent_dim = cfg.latent_dim
        self.discriminator = build_discriminator(cfg, spec)
        self.generator = build_generator(cfg, spec)
        self.generator = finish_generator(cfg, self.generator, self.noise)
        self.adv = make_loss(cfg.loss)
        self.probabilistic = self.adv.probabilistic
        self.clip = cfg.clip
        self.tricks = Tricks(cfg, spec, self.param_groups(), packable=True,
                            unroll_net=self.discriminator)

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"D": list(self.discriminator.parameters()), "G": list(self.generator.parameters())}

    def noise(self, n: int, gen: torch.Generator | None = None) -> dict[str, Tensor]:
        z = torch.randn(n, self.latent_dim, generator=gen, device="cpu" if gen else self.device)
        return {"z": z.to(self.device)}

    def generate(self, inputs: dict[str, Tensor], net: nn.Module | None = None) -> Tensor:
        return (net or self.generator)(z=inputs["z"])

    @torch.no_grad()
    def critic(self, x: Tensor) -> Tensor:
        """D's opinion of each x; with --pack M, of the pack of M copies of x (D's landscape)."""
        m = self.tricks.pack
        return super().critic(pack(x.repeat_interleave(m, 0), m) if m > 1 else x)

    def discriminator_loss(self, batch: Batch) -> Terms:
        keep = self.opts.reuse_fake and torch.is_grad_enabled()
        # G's graph is kept for its phase: recorded although the trainer froze G's parameters
        with torch.set_grad_enabled(keep), differentiable(self.generator, keep):
            fake = self.generate(self.noise(batch.size))
        if fake.requires_grad:
            self._fake, self._fake_step = fake, self.step
            fake = fake.detach()
        critic = self.discriminator.forward_features
        terms, _ = self.tricks.d_terms(critic, batch.x, fake, self.step, self.adv)
        return terms

    def generator_loss(self, batch: Batch) -> Terms:
        fake, self._fake = self._fake, None  # released either way: the graph is this step's
        if fake is None or self._fake_step != self.step or fake.shape[0] != batch.size:
            fake = self.generate(self.noise(batch.size))
        critic = self.discriminator.forward_features
        terms, _ = self.tricks.g_terms(critic, fake, batch.x, self.step, self.adv)
        return terms


register_variant("unconditional", Unconditional, "G(z) vs D(x) with any loss")
