"""Learning-rate schedules (`--lr-policy`), as a pure function of the step.

`linear` is the pix2pix/CycleGAN schedule (Isola et al. 2017; Zhu et al. 2017, §7.1: "a
learning rate of 0.0002 for the first 100 epochs and linearly decay the rate to zero over the
next 100 epochs"), here per step: with `start = round(decay_start * total)`,

    factor(s) = 1 - max(0, s + 1 - start) / (total - start + 1),   s = 0, 1, …, total - 1,

so the first `start` steps run at the base rate and the last at 1 / (total - start + 1) of it, the
per-step form of the official code's `1 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1)`.
The rate depends on nothing but the step, the run's length and the base rates, all of which are
in the checkpoint, so a resume across the decay boundary continues bitwise.
"""

from __future__ import annotations

import torch


def lr_factor(policy: str, step: int, total: int, decay_start: float) -> float:
    """The multiplier of the base learning rates for step `step` (0-based) of `total`."""
    if policy == "constant":
        return 1.0
    start = round(decay_start * total)
    return 1.0 - max(0, step + 1 - start) / (total - start + 1)


def apply_lr(opts: dict[str, torch.optim.Optimizer], base: dict[str, float], factor: float
             ) -> None:
    """Set every optimiser's learning rate to its base rate times `factor`."""
    for name, opt in opts.items():
        for group in opt.param_groups:
            group["lr"] = base[name] * factor
