"""Regularisers of the critic."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from ganforge.losses.fp32 import fp32


def gradient_penalty(
    critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, target: float = 1.0
) -> Tensor:
    """WGAN-GP penalty E[(||grad_x D(x_hat)||_2 - 1)^2] (Gulrajani et al. 2017, Algorithm 1).

    x_hat = eps * real + (1 - eps) * fake with one eps ~ U[0, 1] per sample.
    """
    eps_shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    eps = torch.rand(eps_shape, device=real.device, dtype=real.dtype)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    out = critic(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    norms = fp32(grad.flatten(1)).norm(2, dim=1)  # fp32 even when D ran in bf16/fp16
    return ((norms - target) ** 2).mean()


@torch.no_grad()
def clip_weights(module: nn.Module, c: float) -> None:
    """WGAN weight clipping to [-c, c] (Arjovsky et al. 2017, Algorithm 1, line 7)."""
    for p in module.parameters():
        p.clamp_(-c, c)
