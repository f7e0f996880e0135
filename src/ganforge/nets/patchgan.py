"""The PatchGAN discriminator of pix2pix and CycleGAN (Isola et al. 2017, "Image-to-image
translation with conditional adversarial networks", CVPR, §3.2.2 and appendix 6.1.2).

A fully convolutional D that classifies each N x N patch of an image as real or fake and is run
over the whole image, giving a map of outputs. With ``n_layers=3`` it is the paper's 70x70
PatchGAN: C64-C128-C256-C512 (4x4 convolutions, no norm on C64, LeakyReLU(0.2)), then a
1-channel convolution; as in the official code (``NLayerDiscriminator``) the first three have
stride 2, C512 and the output layer stride 1, all with padding 1.
"""

from __future__ import annotations

from torch import Tensor, nn

from ganforge.errors import ConfigError
from ganforge.nets.init import dcgan_init
from ganforge.nets.norm import check_norm, conv_bias, norm2d


def _block(c_in: int, c_out: int, stride: int, norm: str) -> list[nn.Module]:
    """4x4 conv (padding 1), norm, LeakyReLU(0.2)."""
    return [nn.Conv2d(c_in, c_out, 4, stride, 1, bias=conv_bias(norm)), norm2d(norm, c_out),
            nn.LeakyReLU(0.2)]


class PatchDiscriminator(nn.Module):
    """image (B, in_channels, H, W) -> raw patch outputs (B, 1, H', W') (30x30 at 256 px).

    Widths double per layer up to 8 x width. For pix2pix's conditional D, ``in_channels`` is
    the input and output images' channels together. Weights are N(0, 0.02), BatchNorm scales
    N(1, 0.02) (the official ``init_weights('normal', 0.02)``).
    """

    def __init__(
        self, in_channels: int, width: int = 64, n_layers: int = 3, norm: str = "batch"
    ) -> None:
        super().__init__()
        check_norm(norm)
        if n_layers < 1:
            raise ConfigError(f"the PatchGAN needs n_layers >= 1, got {n_layers}")
        chans = [width * min(2**k, 8) for k in range(n_layers + 1)]
        layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        for k in range(1, n_layers):
            layers += _block(chans[k - 1], chans[k], 2, norm)
        layers += _block(chans[-2], chans[-1], 1, norm)
        layers.append(nn.Conv2d(chans[-1], 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)
        self.n_layers = n_layers
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # (B, 1, H / 2^(n_layers) - 2, W / 2^(n_layers) - 2)


def receptive_field(net: nn.Module) -> int:
    """Side of the input region that one output unit sees, from the net's Conv2d layers.

    The convolutions are taken in ``net.modules()`` order as one chain (true for the
    PatchGAN); going back from one output unit, a layer with kernel k, stride s and dilation d
    widens a span of r units to (r - 1) s + d (k - 1) + 1. For the 70x70 PatchGAN this gives
    1 -> 4 -> 7 -> 16 -> 34 -> 70.
    """
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ConfigError(f"{type(net).__name__} has no Conv2d layers")
    r = 1
    for conv in reversed(convs):
        k, s, d = conv.kernel_size[0], conv.stride[0], conv.dilation[0]
        r = (r - 1) * s + d * (k - 1) + 1
    return r
