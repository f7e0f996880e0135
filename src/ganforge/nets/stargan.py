"""StarGAN's networks (Choi et al. 2018, "StarGAN: unified generative adversarial networks for
multi-domain image-to-image translation", CVPR, appendix 7.2 and the official `model.py`).

Generator: the image with the target label replicated over every pixel as extra channels;
a 7x7 conv, two 4x4 stride-2 down-sampling convs, 6 residual blocks, two 4x4 stride-2
transposed convs, a 7x7 conv and tanh; InstanceNorm with affine parameters and ReLU after every
conv but the last, no bias before a norm. The official code also tracks running statistics in
its InstanceNorm layers but always runs G in train mode; here the norm never tracks them, so
train and eval mode agree.

Discriminator: a PatchGAN of 4x4 stride-2 convs with LeakyReLU(0.01) and no norm, from `width`
channels doubling per layer, down to a (S / 2**layers)-sided map; two heads on it: D_src, a 3x3
conv giving the real/fake map, and D_cls, a conv whose kernel covers the whole map, giving one
logit per domain or attribute.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ganforge.errors import ConfigError

SLOPE = 0.01  # LeakyReLU slope of D (official code)


def _in(channels: int) -> nn.InstanceNorm2d:
    return nn.InstanceNorm2d(channels, affine=True)


class ResidualBlock(nn.Module):
    """x + IN(conv3x3(ReLU(IN(conv3x3(x)))))."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False), _in(channels), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False), _in(channels))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.main(x)


def with_label(x: Tensor, c: Tensor) -> Tensor:
    """Image (B, C, H, W) and label (B, K) -> (B, C + K, H, W): the label on every pixel."""
    maps = c.to(x.dtype)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
    return torch.cat([x, maps], dim=1)


class StarGenerator(nn.Module):
    """G(x, c): translate images `x` to target labels `c` (B, K); shapes at 128 px, width 64."""

    def __init__(self, channels: int, label_dim: int, width: int = 64, blocks: int = 6) -> None:
        super().__init__()
        w = width
        layers: list[nn.Module] = [
            nn.Conv2d(channels + label_dim, w, 7, 1, 3, bias=False), _in(w), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), _in(2 * w), nn.ReLU(),  # (B, 128, 64, 64)
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1, bias=False), _in(4 * w), nn.ReLU(),  # (B, 256, 32, 32)
            *[ResidualBlock(4 * w) for _ in range(blocks)],
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1, bias=False), _in(2 * w), nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), _in(w), nn.ReLU(),  # 128 px
            nn.Conv2d(w, channels, 7, 1, 3, bias=False), nn.Tanh(),
        ]
        self.main = nn.Sequential(*layers)
        self.label_dim = label_dim

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        """Translations (B, C, H, W) in [-1, 1]; H and W divisible by 4."""
        return self.main(with_label(x, c))


def layers_for(image_size: int) -> int:
    """D's stride-2 layers: down to a 2x2 map (6 at 128 px, as the paper; 5 at 64)."""
    return max(1, int(math.log2(image_size)) - 1)


class StarDiscriminator(nn.Module):
    """D(x) -> (real/fake map (B, 1, s, s), domain logits (B, K)); shapes at 128 px, 6 layers."""

    def __init__(self, channels: int, label_dim: int, image_size: int, width: int = 64,
                 layers: int = 0) -> None:
        super().__init__()
        n = layers or layers_for(image_size)
        side = image_size // 2**n
        if side < 1 or image_size % 2**n:
            raise ConfigError(f"stargan: {n} stride-2 layers do not fit {image_size} px images; "
                              f"use an image size divisible by {2**n}, or fewer --d-layers")
        body: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(SLOPE)]
        c = width
        for _ in range(1, n):
            body += [nn.Conv2d(c, 2 * c, 4, 2, 1), nn.LeakyReLU(SLOPE)]
            c *= 2
        self.main = nn.Sequential(*body)  # (B, 2048, 2, 2)
        self.src = nn.Conv2d(c, 1, 3, 1, 1, bias=False)  # (B, 1, 2, 2)
        self.cls = nn.Conv2d(c, label_dim, side, bias=False)  # (B, K, 1, 1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.main(x)
        return self.src(h), self.cls(h).flatten(1)

    def source(self, x: Tensor) -> Tensor:
        """The real/fake map alone (the critic the gradient penalty differentiates)."""
        return self.src(self.main(x))
