"""The variant interface: a variant owns its networks and how they interact; the trainer owns
the loop (optimisers, backward, schedules, EMA, checkpoints) and never asks which variant it runs.

A training step walks the variant's `phases()` in order. A phase names a parameter group of
`param_groups()`; when it is due (every `every` steps) the trainer calls its `loss(batch)`,
back-propagates `terms["loss"]`, steps that group's optimiser (the other groups' parameters are
frozen meanwhile) and calls its `after` hook. The default is Goodfellow et al.'s Algorithm 1:
phase "D" every step, then phase "G" every `n_critic` steps; CycleGAN updates G before D and puts
both generators in group "G". Everything else in the returned dicts is logged.

What else a variant declares:
- `Options`: a dataclass of its own typed options (`ganforge train MODEL --help` lists them);
  the config built for it holds an instance in `cfg.options`.
- `exports()`: the modules saved as `<name>.safetensors` when training ends (and averaged by
  `--ema`): `{"generator": G}` by default, `{"g_ab": …, "g_ba": …}` for CycleGAN.
- `preview_inputs` / `preview`: the fixed inputs of the progress figure (noise, or a held-out
  batch when `preview_source = "held_out"`) and the figure itself.
- State that must survive a resume (image pools, their random generators) lives in buffers or
  `get_extra_state`, so it is part of `state_dict()` and of the checkpoint.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import torch
from torch import Tensor, nn

from ganforge.data.batch import Batch
from ganforge.errors import ConfigError
from ganforge.losses.penalty import clip_weights
from ganforge.registry import Registry
from ganforge.variants.labels import LabelSpace

Terms = dict[str, Tensor]
Nets = dict[str, nn.Module]


@dataclass(frozen=True)
class Phase:
    """One optimiser step inside a training step."""

    group: str  # the param_groups() key whose optimiser steps (and whose loss is logged)
    loss: Callable[[Batch], Terms]
    every: int = 1  # due when (step + 1) % every == 0
    after: Callable[[], None] | None = None  # e.g. WGAN weight clipping after D's step
    ema: bool = False  # update the EMA copies of the exports after this phase


@dataclass
class Preview:
    """A progress figure: images in [-1, 1] laid out `nrow` to a row."""

    images: Tensor
    nrow: int


class Variant(nn.Module, ABC):
    """Base class of every GAN variant."""

    #: The dataclass of this variant's own options (None: it has none).
    Options: ClassVar[type | None] = None
    #: The module exported as the generator (and averaged by --ema), unless exports() says else.
    generator: nn.Module
    #: True when sigmoid(D's output) is a probability (drives the failure monitor's D-wins rule).
    probabilistic: bool = True
    #: "noise": previews from fixed noise; "held_out": from a fixed batch of the test split.
    preview_source: ClassVar[str] = "noise"
    #: Whether the monitor's mode-collapse check (sample diversity vs a real batch) applies.
    checks_diversity: ClassVar[bool] = True
    #: Whether the shared tricks (--label-smoothing, --spectral-norm, …) apply; when not, setting
    #: one is a one-line error rather than silently ignored.
    uses_tricks: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.step = 0  # set by the trainer before each step, for schedules (instance noise, …)

    @abstractmethod
    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameters each phase's optimiser updates, by group name ("D", "G", …)."""

    @abstractmethod
    def discriminator_loss(self, batch: Batch) -> Terms:
        """Phase D: a dict with the total under "loss" and any named terms to log."""

    @abstractmethod
    def generator_loss(self, batch: Batch) -> Terms:
        """Phase G: a dict with the total under "loss" and any named terms to log."""

    def after_discriminator_step(self) -> None:
        """Hook after D's optimiser step (e.g. WGAN weight clipping)."""

    def phases(self, n_critic: int) -> list[Phase]:
        """Algorithm 1: D every step, then G every `n_critic` steps."""
        return [Phase("D", self.discriminator_loss, after=self.after_discriminator_step),
                Phase("G", self.generator_loss, every=n_critic, ema=True)]

    def exports(self) -> Nets:
        """The modules written as `<name>.safetensors` at the end (EMA copies with --ema)."""
        return {"generator": self.generator}

    def noise(self, n: int, gen: torch.Generator | None = None) -> dict[str, Tensor]:
        """Random generator inputs for `n` samples (z, and labels/codes where there are any)."""
        raise ConfigError(f"{type(self).__name__} draws nothing from noise: it translates "
                          "images; use ganforge translate RUN --input IMAGES")

    def generate(self, inputs: dict[str, Tensor], net: nn.Module | None = None) -> Tensor:
        """Samples from generator inputs; `net` replaces `self.generator` (e.g. the EMA copy)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement generate()")

    def grid_inputs(self, n: int, gen: torch.Generator) -> dict[str, Tensor]:
        """Fixed inputs for the sample grids (conditional variants order them by class)."""
        return self.noise(n, gen)

    def preview_inputs(self, n: int, gen: torch.Generator, held_out: Batch | None
                       ) -> dict[str, Tensor]:
        """The fixed inputs of every progress figure of a run."""
        return self.grid_inputs(n, gen)

    @torch.no_grad()
    def preview(self, inputs: dict[str, Tensor], nets: Nets) -> Preview:
        """The progress figure: samples of the exported generator, in eval mode (BatchNorm on
        running statistics), `sqrt(n)` to a row."""
        net = main_net(nets)
        images = in_mode(net, False, lambda: self.generate(inputs, net))
        return Preview(images, max(1, int(math.sqrt(images.shape[0]))))

    def critic(self, x: Tensor) -> Tensor:
        """D's opinion of `x` for pictures: a probability when `probabilistic`, else raw scores."""
        raise NotImplementedError(f"{type(self).__name__} does not expose a critic")

    @property
    def device(self) -> torch.device:
        """Where the parameters live."""
        return next(self.parameters()).device


def main_net(nets: Nets) -> nn.Module:
    """The exported "generator", or the first export of a variant with several."""
    return nets.get("generator") or next(iter(nets.values()))


@contextmanager
def differentiable(net: nn.Module, on: bool = True) -> Iterator[None]:
    """Inside, `net`'s parameters require gradients (when `on`), whatever they did before
    (restored after): a graph through `net` is recorded even in another group's phase, whose
    parameters the trainer freezes (the fakes a D phase draws for the G phase to reuse)."""
    params = list(net.parameters()) if on else []
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(True)
    try:
        yield
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad_(flag)


def in_mode(net: nn.Module, training: bool, fn: Callable[[], Tensor]) -> Tensor:
    """`fn()` with `net` in train (`training`) or eval mode, its mode restored afterwards."""
    was = net.training
    net.train(training)
    try:
        return fn()
    finally:
        net.train(was)


@runtime_checkable
class Translator(Protocol):
    """A variant that maps images of one domain to another (pix2pix, cyclegan, stargan)."""

    #: The directions it can translate ("AtoB", and "BtoA" for cyclegan).
    directions: tuple[str, ...]

    def translate(self, images: Tensor, nets: Nets, direction: str = "AtoB",
                  **target: Any) -> Tensor:
        """Translate `images` (B, C, H, W) in [-1, 1] with the exported `nets`."""
        ...


@runtime_checkable
class MultiTarget(Translator, Protocol):
    """A translator to one of several target labels (stargan): `translate(images, nets,
    attrs="+Blond_Hair,-Male")` edits each image's labels, `translate(images, nets,
    labels=c)` goes to labels c (B, K); `target_row` goes to every target of the figures."""

    #: What the label vector means (attribute or domain names, exclusive hair colours).
    labels: LabelSpace

    def check_edits(self, attrs: str) -> None:
        """A one-line ConfigError unless `attrs` is a valid edit of this run's labels."""
        ...

    def target_names(self) -> list[str]:
        """Captions of the targets of `target_row`, in order."""
        ...

    def target_row(self, images: Tensor, nets: Nets, source: Tensor | None = None
                   ) -> tuple[list[str], Tensor]:
        """Column names and the translations (B, T, C, H, W) to every target of the figures
        (`source`: the images' own labels, else read from the images)."""
        ...


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


#: Every variant, registered by its own module (`register_variant` at the module's bottom).
VARIANTS: Registry[type[Variant]] = Registry("variant")


def register_variant(name: str, cls: type[Variant], help: str) -> type[Variant]:
    """Add a variant class to the registry; a second registration of a name is an error."""
    return VARIANTS.register(name, cls, help)
