"""Virtual batch normalisation (Salimans et al. 2016, §3.4): each example is normalised with the
statistics of a reference batch fixed at the start of training plus the example itself, so an
output never depends on the other examples of its minibatch. As in the paper it is used in G.

`ReferenceBatch` wraps G: it holds the fixed reference inputs (buffers: checkpointed, copied by
EMA), runs them through G together with the real inputs, and drops their outputs. Each
`VirtualBatchNorm` layer reads the first `ref_size` rows as the reference batch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn


class VirtualBatchNorm(nn.Module):
    """BatchNorm whose statistics for example i are those of reference batch + {x_i}."""

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.ref_size = 0  # set by ReferenceBatch
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))

    def forward(self, x: Tensor) -> Tensor:
        n = self.ref_size
        if n <= 0:
            raise RuntimeError("VirtualBatchNorm needs a reference batch: wrap G in ReferenceBatch")
        spatial = tuple(range(2, x.dim()))
        shape = (1, -1) + (1,) * len(spatial)
        m1 = x.mean(spatial) if spatial else x  # (B, C): per-example means over positions
        m2 = (x**2).mean(spatial) if spatial else x**2
        ref1, ref2 = m1[:n].mean(0), m2[:n].mean(0)  # (C,): the reference batch's moments
        new = 1.0 / (n + 1)  # the example's weight among the n + 1 (OpenAI's improved-GAN code)
        mean = torch.cat([ref1.expand(n, -1), (1 - new) * ref1 + new * m1[n:]])  # (B, C)
        sq = torch.cat([ref2.expand(n, -1), (1 - new) * ref2 + new * m2[n:]])
        var = (sq - mean**2).clamp_min(0)
        tail = (1,) * len(spatial)
        mean, var = mean.view(*mean.shape, *tail), var.view(*var.shape, *tail)  # (B, C, 1, 1)
        out = (x - mean) / torch.sqrt(var + self.eps)
        return out * self.weight.view(shape) + self.bias.view(shape)


def to_virtual_batchnorm(module: nn.Module) -> nn.Module:
    """Replace every BatchNorm1d/2d in `module` by a VirtualBatchNorm with the same affine init."""
    for name, child in module.named_children():
        if isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d)):
            vbn = VirtualBatchNorm(child.num_features, child.eps)
            if child.affine:
                vbn.weight.data.copy_(child.weight.data)
                vbn.bias.data.copy_(child.bias.data)
            setattr(module, name, vbn)
        else:
            to_virtual_batchnorm(child)
    return module


class ReferenceBatch(nn.Module):
    """G with a fixed reference batch of inputs prepended to every call (keyword inputs)."""

    def __init__(self, net: nn.Module, reference: dict[str, Tensor]) -> None:
        super().__init__()
        self.net = net
        self.keys = list(reference)
        self.ref_size = int(next(iter(reference.values())).shape[0])
        for key, value in reference.items():
            self.register_buffer(f"ref_{key}", value.clone())
        for m in net.modules():
            if isinstance(m, VirtualBatchNorm):
                m.ref_size = self.ref_size

    def forward(self, **inputs: Tensor) -> Tensor:
        joined = {k: torch.cat([getattr(self, f"ref_{k}"), v]) for k, v in inputs.items()}
        return self.net(**joined)[self.ref_size :]


NoiseFn = Callable[[int, torch.Generator], dict[str, Tensor]]


def with_reference_batch(net: nn.Module, noise: NoiseFn, size: int, seed: int) -> nn.Module:
    """Wrap a G whose BatchNorms were made virtual with `size` reference inputs drawn by `noise`."""
    reference = noise(size, torch.Generator().manual_seed(seed))
    return ReferenceBatch(net, reference)
