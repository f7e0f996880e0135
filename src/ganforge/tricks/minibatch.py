"""Layers that let D look at a whole minibatch, so a collapsed G (samples all alike) is easy to
spot: minibatch discrimination (Salimans et al. 2016, §3.2) and the minibatch standard deviation
(Karras et al. 2018, "Progressive growing of GANs", §3)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class MinibatchDiscrimination(nn.Module):
    """Salimans et al. (2016), §3.2: M_i = f(x_i) T (B x C per example),
    c_b(x_i, x_j) = exp(-||M_i,b - M_j,b||_L1), o(x_i)_b = sum_j c_b(x_i, x_j);
    the output is [f(x_i), o(x_i)] of size in_features + kernels."""

    #: Differentiable twice (an unrolled GAN differentiates through D's gradient steps):
    #: torch.cdist has no second derivative, so the (N, N, B, C) differences are taken instead.
    twice_differentiable: bool = False

    def __init__(self, in_features: int, kernels: int = 50, kernel_dim: int = 5) -> None:
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * 0.1)

    def forward(self, f: Tensor) -> Tensor:
        m = (f @ self.T).view(-1, self.kernels, self.kernel_dim)  # (N, B, C)
        if self.twice_differentiable:
            l1 = (m.unsqueeze(0) - m.unsqueeze(1)).abs().sum(-1)  # (N, N, B)
        else:  # as (B, N, N) without the (N, N, B, C) differences: half the time
            mb = m.transpose(0, 1)
            l1 = torch.cdist(mb, mb, p=1).permute(1, 2, 0)  # (N, N, B)
        o = torch.exp(-l1).sum(1)  # (N, B), the j = i term included as in the paper
        return torch.cat([f, o], dim=1)  # (N, F + B)


class MinibatchStdDev(nn.Module):
    """Karras et al. (2018), §3: the standard deviation of each feature at each position over the
    minibatch, averaged into one value, appended as one constant extra feature (map)."""

    def __init__(self, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        var = x.var(dim=0, unbiased=False)  # (C, H, W) or (F,)
        std = torch.sqrt(var + self.eps).mean()  # one scalar for the whole batch
        extra = std.expand(x.shape[0], 1, *x.shape[2:])  # (N, 1, H, W) or (N, 1)
        return torch.cat([x, extra], dim=1)
