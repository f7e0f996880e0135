"""Instance noise (Sønderby et al. 2017, §3.1; Arjovsky & Bottou 2017, §3.1): Gaussian noise on
every input of D, real and fake, so that the two distributions overlap and D's gradients stay
informative; its standard deviation is annealed linearly to 0 so the game ends on clean data."""

from __future__ import annotations

import torch
from torch import Tensor


def annealed_std(std0: float, step: int, anneal_steps: int) -> float:
    """sigma_t = sigma_0 * max(0, 1 - t / T): sigma_0 at step 0, exactly 0 from step T on."""
    if std0 <= 0 or anneal_steps <= 0:
        return 0.0
    return std0 * max(0.0, 1.0 - step / anneal_steps)


def add_instance_noise(x: Tensor, std: float, gen: torch.Generator | None = None) -> Tensor:
    """x + N(0, std^2) elementwise (x itself when std is 0)."""
    if std <= 0:
        return x
    noise = torch.randn(x.shape, generator=gen, device=x.device, dtype=x.dtype)
    return x + std * noise
