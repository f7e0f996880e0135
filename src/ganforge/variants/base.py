"""The variant interface: a variant owns its networks and how they interact; the trainer owns
the loop (optimisers, backward, n_critic, EMA, checkpoints).

A training step is two phases. In phase "D" the trainer calls `discriminator_loss(batch)`,
back-propagates `terms["loss"]` and steps the optimiser over `param_groups()["D"]`, then calls
`after_discriminator_step()`. Every `n_critic` steps, phase "G" does the same with
`generator_loss(batch)` and `param_groups()["G"]`. Everything else in the returned dicts is
logged. A variant with two generators (CycleGAN) puts both in group "G"; one with an extra head
(InfoGAN's Q) adds it to the group(s) that should learn it; one that needs labels reads
`batch.y`. The trainer never looks at which variant it runs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.data.batch import Batch
from ganforge.losses.penalty import clip_weights

Terms = dict[str, Tensor]


class Variant(nn.Module, ABC):
    """Base class of every GAN variant."""

    #: The module whose weights are exported as the generator (and averaged by --ema).
    generator: nn.Module
    #: True when sigmoid(D's output) is a probability (drives the failure monitor's D-wins rule).
    probabilistic: bool = True

    def __init__(self) -> None:
        super().__init__()
        self.step = 0  # set by the trainer before each step, for schedules (instance noise, …)

    @abstractmethod
    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameters each phase's optimiser updates: keys "D" and "G"."""

    @abstractmethod
    def discriminator_loss(self, batch: Batch) -> Terms:
        """Phase D: a dict with the total under "loss" and any named terms to log."""

    @abstractmethod
    def generator_loss(self, batch: Batch) -> Terms:
        """Phase G: a dict with the total under "loss" and any named terms to log."""

    def after_discriminator_step(self) -> None:
        """Hook after D's optimiser step (e.g. WGAN weight clipping)."""

    @abstractmethod
    def noise(self, n: int, gen: torch.Generator | None = None) -> dict[str, Tensor]:
        """Random generator inputs for `n` samples (z, and labels/codes where there are any)."""

    @abstractmethod
    def generate(self, inputs: dict[str, Tensor], net: nn.Module | None = None) -> Tensor:
        """Samples from generator inputs; `net` replaces `self.generator` (e.g. the EMA copy)."""

    def grid_inputs(self, n: int, gen: torch.Generator) -> dict[str, Tensor]:
        """Fixed inputs for the sample grids (conditional variants order them by class)."""
        return self.noise(n, gen)

    def critic(self, x: Tensor) -> Tensor:
        """D's opinion of `x` for pictures: a probability when `probabilistic`, else raw scores."""
        raise NotImplementedError(f"{type(self).__name__} does not expose a critic")

    @property
    def device(self) -> torch.device:
        """Where the parameters live."""
        return next(self.parameters()).device


class SingleCriticVariant(Variant):
    """A variant whose D is one module called on images alone: WGAN clipping after D's step
    (`clip` > 0) and D's opinion for pictures come for free."""

    discriminator: Any  # a subclass's own, more precise type (with forward_features) wins
    clip: float = 0.0

    def after_discriminator_step(self) -> None:
        if self.clip > 0:
            clip_weights(self.discriminator, self.clip)

    @torch.no_grad()
    def critic(self, x: Tensor) -> Tensor:
        out = self.discriminator(x)
        return torch.sigmoid(out) if self.probabilistic else out
