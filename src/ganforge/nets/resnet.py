"""The CycleGAN ResNet generator (Zhu et al. 2017, "Unpaired image-to-image translation using
cycle-consistent adversarial networks", ICCV, §4 and appendix 7.2), after Johnson et al. 2016
("Perceptual losses for real-time style transfer and super-resolution", ECCV).

c7s1-64, d128, d256, R256 x n, u128, u64, c7s1-3: a reflection-padded 7x7 convolution, two 3x3
stride-2 convolutions, n residual blocks (reflection padding, 3x3 convolutions, InstanceNorm, no
dropout), two 3x3 stride-2 transposed convolutions (output_padding 1, so each exactly doubles the
size), a reflection-padded 7x7 convolution and tanh; each convolution but the last is followed by
the norm and ReLU. The paper uses 6 blocks at 128x128 and 9 at 256x256 and above (appendix 7.2).
"""

from __future__ import annotations

from torch import Tensor, nn

from ganforge.errors import ConfigError
from ganforge.nets.init import dcgan_init
from ganforge.nets.norm import check_norm, conv_bias, norm2d


def blocks_for(image_size: int) -> int:
    """Residual blocks of the paper: 9 at 256 px and above, else 6 (128 px and below)."""
    return 9 if image_size >= 256 else 6


def _conv(c_in: int, c_out: int, norm: str, kernel: int, stride: int = 1) -> list[nn.Module]:
    """Conv (reflection padding for stride 1, zero padding 1 for the 3x3 stride-2 ones), norm,
    ReLU."""
    pad: list[nn.Module] = [nn.ReflectionPad2d(kernel // 2)] if stride == 1 else []
    padding = 0 if stride == 1 else 1
    return [*pad, nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=conv_bias(norm)),
            norm2d(norm, c_out), nn.ReLU()]


def _up(c_in: int, c_out: int, norm: str) -> list[nn.Module]:
    """3x3 stride-2 transposed conv that doubles the size exactly, norm, ReLU."""
    return [nn.ConvTranspose2d(c_in, c_out, 3, 2, 1, output_padding=1, bias=conv_bias(norm)),
            norm2d(norm, c_out), nn.ReLU()]


class ResidualBlock(nn.Module):
    """x + (pad, 3x3 conv, norm, ReLU, pad, 3x3 conv, norm)(x), at constant size and width."""

    def __init__(self, channels: int, norm: str = "instance") -> None:
        super().__init__()
        self.body = nn.Sequential(
            *_conv(channels, channels, norm, 3),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=conv_bias(norm)),
            norm2d(norm, channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)  # (B, C, H, W)


class ResnetGenerator(nn.Module):
    """image (B, in_channels, S, S) -> image (B, out_channels, S, S) in [-1, 1]; S divisible by 4.

    Weights are N(0, 0.02), BatchNorm scales N(1, 0.02) (the official
    ``init_weights('normal', 0.02)``); InstanceNorm has no weights.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        width: int = 64,
        n_blocks: int = 9,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        check_norm(norm)
        if n_blocks < 0:
            raise ConfigError(f"n_blocks must be >= 0 (6 at 128 px, 9 at 256), got {n_blocks}")
        w = width
        self.encoder = nn.Sequential(
            *_conv(in_channels, w, norm, 7), *_conv(w, 2 * w, norm, 3, 2),
            *_conv(2 * w, 4 * w, norm, 3, 2),
        )
        self.blocks = nn.Sequential(*(ResidualBlock(4 * w, norm) for _ in range(n_blocks)))
        self.decoder = nn.Sequential(
            *_up(4 * w, 2 * w, norm), *_up(2 * w, w, norm),
            nn.ReflectionPad2d(3), nn.Conv2d(w, out_channels, 7), nn.Tanh(),
        )
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        h = self.encoder(x)  # (B, 4 * width, S / 4, S / 4)
        h = self.blocks(h)  # (B, 4 * width, S / 4, S / 4)
        return self.decoder(h)  # (B, out_channels, S, S)
