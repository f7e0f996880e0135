"""Stacked MNIST: three random digits as the R, G, B channels, 1000 modes."""

from __future__ import annotations

import torch
from torch import Tensor

from ganforge.errors import DataError

NUM_MODES = 1000


def stack_digits(
    images: Tensor, labels: Tensor, n: int | None = None, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """Draw `n` triples of digits (seeded) and stack them as RGB images.

    `images` is uint8 (N, 1, H, W) and `labels` int64 (N,); `n` defaults to N. Returns uint8
    (n, 3, H, W) and labels 100 * d_R + 10 * d_G + d_B in [0, 1000).
    """
    if images.dim() != 4 or images.shape[1] != 1:
        raise DataError(f"stacked MNIST needs 1-channel images, got shape {tuple(images.shape)}")
    n = len(images) if n is None else int(n)
    if n <= 0:
        raise DataError(f"stacked MNIST size must be positive, got {n}")
    gen = torch.Generator()
    gen.manual_seed(int(seed))
    idx = torch.randint(len(images), (n, 3), generator=gen)
    stacked = images[:, 0][idx]  # (n, 3, H, W)
    digits = labels[idx]
    return stacked, digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]
