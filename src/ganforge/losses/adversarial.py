"""Adversarial losses: how D's raw outputs turn into D's and G's objectives.

Every loss takes D's raw outputs (logits or critic values, any shape) and averages over them,
so a PatchGAN's map of outputs works as well as one output per image. The outputs are cast to
fp32 first: under --precision bf16/fp16 D runs in half precision, its losses do not.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ganforge.losses.fp32 import fp32
from ganforge.registry import Registry


class AdversarialLoss:
    """Base class: `d_loss` is minimised by D, `g_loss` by G."""

    name = "base"
    #: True when sigmoid(D's output) reads as the probability that the input is real.
    probabilistic = True
    #: Constant factor of `d_loss` and `g_loss` over the plain criterion (BCE, MSE, …) summed
    #: over the real and fake terms: LSGAN's 1/2 (Mao et al., eq. 2). Translation variants
    #: divide it out to keep the papers' balance against their L1 and cycle terms.
    scale = 1.0

    def d_loss(self, real: Tensor, fake: Tensor, real_target: float = 1.0) -> Tensor:
        """D's loss on its outputs for a real and a fake batch."""
        raise NotImplementedError

    def g_loss(self, fake: Tensor) -> Tensor:
        """G's loss on D's outputs for a fake batch."""
        raise NotImplementedError

    def d_prob(self, out: Tensor) -> Tensor:
        """Mean D(x) as a probability (0-dim, on D's device: read at the log interval), for
        logs and the failure monitor."""
        return torch.sigmoid(out.detach().float()).mean()


def _bce(logits: Tensor, target: float) -> Tensor:
    logits = fp32(logits)
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


class Minimax(AdversarialLoss):
    """The game as written in Goodfellow et al. (2014), eq. 1: G minimises log(1 - D(G(z)))."""

    name = "minimax"

    def d_loss(self, real: Tensor, fake: Tensor, real_target: float = 1.0) -> Tensor:
        return _bce(real, real_target) + _bce(fake, 0.0)

    def g_loss(self, fake: Tensor) -> Tensor:
        # log(1 - sigmoid(l)) = -softplus(l); saturates (vanishing gradient) when D rejects fakes.
        return -F.softplus(fp32(fake)).mean()


class NonSaturating(Minimax):
    """Goodfellow et al. (2014), section 3: G maximises log D(G(z)), for strong gradients."""

    name = "nonsaturating"

    def g_loss(self, fake: Tensor) -> Tensor:
        return _bce(fake, 1.0)


class LeastSquares(AdversarialLoss):
    """LSGAN (Mao et al. 2017), eq. 2 with a=0 (fake), b=1 (real), c=1 (G's target)."""

    name = "lsgan"
    scale = 0.5

    def d_loss(self, real: Tensor, fake: Tensor, real_target: float = 1.0) -> Tensor:
        return 0.5 * ((fp32(real) - real_target) ** 2).mean() + 0.5 * (fp32(fake)**2).mean()

    def g_loss(self, fake: Tensor) -> Tensor:
        return 0.5 * ((fp32(fake) - 1.0) ** 2).mean()

    def d_prob(self, out: Tensor) -> Tensor:
        # D regresses towards 1 (real) and 0 (fake): its raw output already reads as a score.
        return out.detach().float().mean().clamp(0.0, 1.0)


class Wasserstein(AdversarialLoss):
    """WGAN (Arjovsky et al. 2017): the critic maximises E[f(x)] - E[f(G(z))]."""

    name = "wasserstein"
    probabilistic = False

    def d_loss(self, real: Tensor, fake: Tensor, real_target: float = 1.0) -> Tensor:
        return fp32(fake).mean() - fp32(real).mean()

    def g_loss(self, fake: Tensor) -> Tensor:
        return -fp32(fake).mean()


class Hinge(AdversarialLoss):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018): relu(1 - D(x)) + relu(1 + D(G(z)))."""

    name = "hinge"
    probabilistic = False

    def d_loss(self, real: Tensor, fake: Tensor, real_target: float = 1.0) -> Tensor:
        return F.relu(real_target - fp32(real)).mean() + F.relu(1.0 + fp32(fake)).mean()

    def g_loss(self, fake: Tensor) -> Tensor:
        return -fp32(fake).mean()


LOSSES: Registry[type[AdversarialLoss]] = Registry("loss")
LOSSES.register("minimax", Minimax, "saturating log(1 - D(G(z))) of the GAN paper's formula")
LOSSES.register("nonsaturating", NonSaturating, "-log D(G(z)): the GAN paper's practical choice")
LOSSES.register("lsgan", LeastSquares, "least squares (Mao et al.), a=0, b=1, c=1")
LOSSES.register("wasserstein", Wasserstein, "WGAN critic loss; pair with --clip or --gp-weight")
LOSSES.register("hinge", Hinge, "hinge loss (SNGAN, BigGAN)")


def make_loss(name: str) -> AdversarialLoss:
    """Instantiate the loss registered under `name`."""
    return LOSSES.get(name)()
