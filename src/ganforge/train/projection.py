"""A transposed convolution on a 1x1 map is a matrix product: the first layer of a DCGAN-style
generator (noise (B, Z, 1, 1) -> (B, C, k, k)) computed as one, as the DCGAN paper describes
it ("a matrix multiplication ... reshaped into a 4-dimensional tensor"). The same function of the
same parameters: the state dict, the initialisation and spectral norm are untouched; only the
kernel that computes it changes. On a CPU, oneDNN's transposed convolution takes several times
longer than the product for this shape (benchmarks/results/channels_last.md, row G[0])."""

from __future__ import annotations

import types

import torch
from torch import Tensor, nn


def is_projection(m: nn.Module) -> bool:
    """A transposed convolution whose output on a 1x1 input is a matrix product: no padding,
    dilation, output padding or groups (the stride then does not matter)."""
    return (isinstance(m, nn.ConvTranspose2d) and m.padding == (0, 0) and m.dilation == (1, 1)
            and m.output_padding == (0, 0) and m.groups == 1 and m.padding_mode == "zeros")


def project(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """conv_transpose2d(x, weight, bias) for x of shape (B, in, 1, 1) and weight (in, out, kh,
    kw): out[b, o, i, j] = sum_c x[b, c] weight[c, o, i, j] + bias[o]. The result is stored
    channels-last when the weight is (as the convolution would return it), else contiguous."""
    c_in, c_out, kh, kw = weight.shape
    flat = x.reshape(x.shape[0], c_in)
    if weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous():
        y = (flat @ weight.permute(0, 2, 3, 1).reshape(c_in, -1))  # (B, kh * kw * out)
        y = y.view(-1, kh, kw, c_out).permute(0, 3, 1, 2)
    else:
        y = (flat @ weight.reshape(c_in, -1)).view(-1, c_out, kh, kw)
    return y if bias is None else y + bias.view(1, -1, 1, 1)


def _forward(self: nn.ConvTranspose2d, x: Tensor, output_size: list[int] | None = None
             ) -> Tensor:
    """The layer's forward: a matrix product on a 1x1 input, else its class's convolution
    (looked up on the class, so a deep copy, as EMA makes, convolves with its own weights)."""
    if output_size is None and x.dim() == 4 and x.shape[-2:] == (1, 1):
        return project(x, self.weight, self.bias)
    return type(self).forward(self, x, output_size)


def use_projections(net: nn.Module) -> int:
    """Compute every eligible transposed convolution of `net` as a matrix product when its input
    is 1x1 (any other input still goes to the convolution), in place. Returns how many."""
    count = 0
    for m in net.modules():
        if is_projection(m) and "forward" not in vars(m):
            m.forward = types.MethodType(_forward, m)  # type: ignore[method-assign]
            count += 1
    return count
