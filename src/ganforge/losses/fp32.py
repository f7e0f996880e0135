"""Losses are computed in at least fp32: under --precision bf16/fp16 the networks' outputs are
half precision, and a loss (a mean over the batch) or the gradient penalty's norm in bf16 loses
most of its digits. float64 inputs (reference computations in the tests) stay float64."""

from __future__ import annotations

import torch
from torch import Tensor


def fp32(t: Tensor) -> Tensor:
    """`t` in float32 when it is a half type (bf16, fp16), else unchanged."""
    return t.to(torch.promote_types(t.dtype, torch.float32))
