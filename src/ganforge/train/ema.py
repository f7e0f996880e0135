"""Exponential moving average of the generator's weights (Yazıcı et al. 2019; Karras et al.)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """A frozen copy of `net` tracking theta_ema <- d * theta_ema + (1 - d) * theta."""

    def __init__(self, net: nn.Module, decay: float) -> None:
        self.decay = decay
        self.module = copy.deepcopy(net).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, net: nn.Module) -> None:
        """One averaging step after a generator update; buffers (BN statistics) are copied."""
        for avg, p in zip(self.module.parameters(), net.parameters()):
            avg.lerp_(p, 1.0 - self.decay)
        for buf, b in zip(self.module.buffers(), net.buffers()):
            buf.copy_(b)
