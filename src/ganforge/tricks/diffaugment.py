"""DiffAugment (Zhao et al. 2020, "Differentiable augmentation for data-efficient GAN training"):
the same random, differentiable transforms T applied to real and fake images before D, in D's and
G's updates alike, so D cannot memorise a small data set and G still receives gradients through T.

The three policies of the paper (§3, and its official code), on images in [-1, 1]:
- color: brightness + U(-0.5, 0.5), saturation x U(0, 2), contrast x U(0.5, 1.5);
- translation: integer shift of up to 1/8 of the side, zero padded;
- cutout: one square of half the side set to 0, at a random centre.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ganforge.errors import ConfigError


def _rand(x: Tensor, *shape: int) -> Tensor:
    return torch.rand(x.shape[0], *shape, device=x.device, dtype=x.dtype)


def color(x: Tensor) -> Tensor:
    """Random brightness, saturation and contrast per image."""
    x = x + (_rand(x, 1, 1, 1) - 0.5)
    mean_c = x.mean(dim=1, keepdim=True)  # saturation: a no-op on 1-channel images
    x = (x - mean_c) * (_rand(x, 1, 1, 1) * 2) + mean_c
    mean_all = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean_all) * (_rand(x, 1, 1, 1) + 0.5) + mean_all


def translation(x: Tensor, ratio: float = 0.125) -> Tensor:
    """Shift each image by up to `ratio` of its side in x and y, filling with zeros."""
    b, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (b, 1, 1), device=x.device)
    dx = torch.randint(-sw, sw + 1, (b, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1) + dy  # (B, H, 1) source rows
    cols = torch.arange(w, device=x.device).view(1, 1, w) + dx  # (B, 1, W) source cols
    padded = F.pad(x, [1, 1, 1, 1])  # index 0 and side+1 are the zero border
    rows = (rows + 1).clamp(0, h + 1).expand(b, h, w)
    cols = (cols + 1).clamp(0, w + 1).expand(b, h, w)
    flat = rows * (w + 2) + cols  # (B, H, W) indices into the padded image
    src = padded.flatten(2)  # (B, C, (H+2)(W+2))
    out = src.gather(2, flat.flatten(1).unsqueeze(1).expand(-1, x.shape[1], -1))
    return out.view_as(x)


def cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    """Zero one square of side `ratio` x side per image, centred anywhere in the image."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=x.device)
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    inside = ((ys - cy + ch // 2) >= 0) & ((ys - cy + ch // 2) < ch)
    inside = inside & ((xs - cx + cw // 2) >= 0) & ((xs - cx + cw // 2) < cw)  # (B, H, W)
    return x * (~inside).unsqueeze(1).to(x.dtype)


POLICIES: dict[str, Callable[[Tensor], Tensor]] = {
    "color": color,
    "translation": translation,
    "cutout": cutout,
}


def parse_policy(text: str) -> tuple[str, ...]:
    """'color,translation' -> ('color', 'translation'); unknown names are a one-line error."""
    names = tuple(p.strip() for p in text.split(",") if p.strip())
    for name in names:
        if name not in POLICIES:
            raise ConfigError(f"unknown --diffaugment policy '{name}'; choose from: "
                              f"{', '.join(POLICIES)} (comma-separated)")
    return names


def diff_augment(x: Tensor, policy: tuple[str, ...]) -> Tensor:
    """Apply the policies in order; every step is differentiable with respect to x."""
    for name in policy:
        x = POLICIES[name](x)
    return x
