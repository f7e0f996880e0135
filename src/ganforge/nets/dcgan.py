"""DCGAN networks (Radford et al. 2016) for 28, 32 and 64 pixel images.

The guidelines of §3: strided convolutions in D and fractional-strided ones in G, BatchNorm in
both except G's output and D's input, ReLU in G with a tanh output, LeakyReLU(0.2) in D.
"""

from __future__ import annotations

from torch import Tensor, nn

from ganforge.errors import ConfigError
from ganforge.tricks.minibatch import MinibatchDiscrimination, MinibatchStdDev

SIZES = (28, 32, 64)


def _plan(image_size: int) -> tuple[int, int]:
    """(side of the smallest feature map, number of 2x up/down-sampling stages)."""
    if image_size not in SIZES:
        raise ConfigError(
            f"unsupported image size {image_size} for DCGAN; choose from: 28, 32, 64 "
            "(--image-size)"
        )
    return (7, 2) if image_size == 28 else (4, {32: 3, 64: 4}[image_size])


def _norm2d(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":  # per-sample normalisation, allowed with a gradient penalty
        return nn.GroupNorm(1, channels)
    if kind == "none":
        return nn.Identity()
    raise ConfigError(f"unknown norm '{kind}'; choose from: batch, layer, none")


def conv_head(ch: int, base: int, out_dim: int, mb_disc: bool = False, mb_stddev: bool = False
              ) -> nn.Module:
    """D's last layer on a (B, ch, base, base) map: one conv over the whole map, after the
    optional minibatch standard deviation map and minibatch discrimination features."""
    if not (mb_disc or mb_stddev):
        return nn.Conv2d(ch, out_dim, base, 1, 0)
    layers: list[nn.Module] = []
    if mb_stddev:
        layers.append(MinibatchStdDev())  # (B, ch + 1, base, base)
        ch += 1
    if not mb_disc:
        return nn.Sequential(*layers, nn.Conv2d(ch, out_dim, base, 1, 0))
    flat = ch * base * base
    mbd = MinibatchDiscrimination(flat)
    return nn.Sequential(*layers, nn.Flatten(), mbd, nn.Linear(flat + mbd.kernels, out_dim))


class DCGANGenerator(nn.Module):
    """z (B, latent) -> image (B, C, S, S) in [-1, 1]."""

    def __init__(
        self, latent_dim: int, channels: int, image_size: int, width: int = 64, in_extra: int = 0
    ) -> None:
        super().__init__()
        base, stages = _plan(image_size)
        ch = width * 2 ** (stages - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim + in_extra, ch, base, 1, 0, bias=False),
            nn.BatchNorm2d(ch),
            nn.ReLU(True),
        ]
        for _ in range(stages - 1):
            layers += [
                nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ch // 2),
                nn.ReLU(True),
            ]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))  # (B, C, S, S)


class DCGANDiscriminator(nn.Module):
    """image (B, C, S, S) -> one raw output per image (B,), or (B, out_dim)."""

    def __init__(
        self,
        channels: int,
        image_size: int,
        width: int = 64,
        norm: str = "batch",
        in_extra: int = 0,
        out_dim: int = 1,
        minibatch_disc: bool = False,
        minibatch_stddev: bool = False,
    ) -> None:
        super().__init__()
        base, stages = _plan(image_size)
        ch = width
        layers: list[nn.Module] = [
            nn.Conv2d(channels + in_extra, ch, 4, 2, 1),
            nn.LeakyReLU(0.2, True),
        ]
        for _ in range(stages - 1):
            layers += [
                nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=norm == "none"),
                _norm2d(norm, ch * 2),
                nn.LeakyReLU(0.2, True),
            ]
            ch *= 2
        self.body = nn.Sequential(*layers)
        self.feature_dim = ch * base * base
        self.head = conv_head(ch, base, out_dim, minibatch_disc, minibatch_stddev)

    def features(self, x: Tensor) -> Tensor:
        """The last feature map, flattened (for feature matching and auxiliary heads)."""
        return self.body(x).flatten(1)  # (B, ch * base * base)

    def forward_features(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """D's raw output and its last feature map (flattened), in one pass."""
        h = self.body(x)  # (B, ch, base, base)
        return self.head(h).flatten(1).squeeze(-1), h.flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_features(x)[0]
