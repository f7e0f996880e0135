"""Shared pieces of the image-to-image translation variants (pix2pix, cyclegan; stargan): their
base class, the papers' halved D objective, the check that the data is translation data, the mode
the generator runs in when it translates, and the figures of inputs | outputs | targets.

The official pytorch-CycleGAN-and-pix2pix code scores D as `(crit(D(real), 1) + crit(D(fake), 0))
* 0.5` and G's adversarial term as `crit(D(fake), 1)`, with `crit` BCE-with-logits (pix2pix) or
MSE (CycleGAN). Our adversarial losses may carry a constant factor over that plain criterion
(LSGAN's 1/2 of Mao et al., eq. 2: `AdversarialLoss.scale`); it is divided out here, so the
balance against the L1 and cycle terms (lambda 100, 10) is the papers'.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from ganforge.config import TrainConfig
from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError
from ganforge.losses.adversarial import AdversarialLoss
from ganforge.variants.base import Preview, Variant

#: How the generator runs when it translates (and in the previews, which must show the same):
#: "eval" (dropout off, BatchNorm on running statistics) or "train" (Isola et al. 2017, §3.3:
#: dropout at test time and BatchNorm on the test batch's statistics).
TRANSLATE_MODES = ("eval", "train")
PREVIEW_SEED = 2017  # dropout noise of train-mode previews: the same figure every time


class TranslationVariant(Variant):
    """Base of the image translators (pix2pix, cyclegan, stargan): previews drawn from the fixed
    held-out batch, no diversity monitor (a translator's output follows its input, not noise), no
    GAN tricks (their networks and losses are the papers'), one direction unless overridden."""

    preview_source = "held_out"
    checks_diversity = False
    uses_tricks = False
    directions: tuple[str, ...] = ("AtoB",)


def require_pairing(cfg: TrainConfig, spec: DataSpec, model: str, allowed: tuple[str, ...]
                    ) -> None:
    """A one-line error unless the data is translation data of an allowed pairing."""
    if spec.kind != "image" or spec.pairing not in allowed:
        kinds = " or ".join(allowed)
        examples = "facades, paired:PATH" if allowed == ("paired",) else (
            "horse2zebra, mnist-style, unpaired:PATH, facades")
        raise ConfigError(f"{model} needs {kinds} image data ({examples}), but '{cfg.data}' is "
                          "not; for unconditional data use a GAN model (dcgan)")


def d_loss_halved(adv: AdversarialLoss, real_out: Tensor, fake_out: Tensor) -> Tensor:
    """(crit(real, 1) + crit(fake, 0)) / 2, as in the papers' code."""
    return 0.5 * adv.d_loss(real_out, fake_out) / adv.scale


def g_adv(adv: AdversarialLoss, fake_out: Tensor) -> Tensor:
    """crit(D(G(x)), 1): G's adversarial term in the papers' scale."""
    return adv.g_loss(fake_out) / adv.scale


@contextmanager
def frozen_statistics(net: nn.Module) -> Iterator[None]:
    """Train-mode forwards that leave BatchNorm's running statistics exactly as they were."""
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(m.momentum, m.num_batches_tracked.clone() if m.num_batches_tracked is not None
              else None) for m in norms]
    for m in norms:
        m.momentum = 0.0  # running = (1 - 0) * running + 0 * batch
    try:
        yield
    finally:
        for m, (momentum, count) in zip(norms, saved):
            m.momentum = momentum
            if count is not None and m.num_batches_tracked is not None:
                m.num_batches_tracked.copy_(count)


def run_generator(net: nn.Module, mode: str, fn: Callable[[], Tensor]) -> Tensor:
    """`fn()` (which calls `net`) in translate mode `mode`, without gradients, without touching
    the training RNG or BatchNorm's running statistics; `net`'s own mode is restored."""
    was = net.training
    net.train(mode == "train")
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]), frozen_statistics(net):
            torch.manual_seed(PREVIEW_SEED)
            return fn()
    finally:
        net.train(was)


def held_out_images(held_out: Batch | None, model: str) -> dict[str, Tensor]:
    """The preview inputs: the held-out batch's A and B images."""
    if held_out is None or held_out.a is None or held_out.b is None:
        raise ConfigError(f"{model} previews need a held-out batch of paired or unpaired images")
    return {"a": held_out.a, "b": held_out.b}


def rows_of(columns: list[Tensor]) -> Preview:
    """One row per example, one column per tensor (gray columns shown as RGB when others are)."""
    channels = max(c.shape[1] for c in columns)
    cols = [c.expand(-1, channels, -1, -1) if c.shape[1] == 1 else c for c in columns]
    images = torch.stack(cols, dim=1).flatten(0, 1)  # (B * K, C, H, W), example-major
    return Preview(images.detach().cpu(), len(columns))
