"""The pix2pix U-Net generator (Isola et al. 2017, "Image-to-image translation with conditional
adversarial networks", CVPR, §3.2.1 and appendix 6.1.1).

An encoder-decoder whose layer i is joined to layer n - i by a skip connection that concatenates
the channels. The encoder is C64-C128-C256-C512-C512-… (4x4 convolutions with stride 2,
LeakyReLU(0.2)), one halving per layer until the bottleneck is 1x1, so it has log2(image_size)
layers (8 at 256 px, 7 at 128, 6 at 64). The decoder mirrors it with 4x4 transposed convolutions
and ReLU and ends in tanh. As in the official code (pytorch-CycleGAN-and-pix2pix,
``UnetSkipConnectionBlock``), the outermost and innermost encoder layers have no norm, a layer's
activation is applied at the start of the next block (so the skips carry the normalised,
pre-activation encoder outputs; the decoder's ReLU after the concatenation makes that the same as
the official in-place LeakyReLU), and the decoder blocks below the innermost one have dropout 0.5,
used at test time too as the paper's only source of noise (call ``train()`` for that).

Dropout rule: the official generator puts dropout on its ``num_downs - 5`` repeated 512-channel
decoder blocks (3 at 256 px, 4 at 512) and none on the innermost or the three outer ones. Below
256 px that count shrinks (2 at 128, 1 at 64), so here the number of dropout blocks is
``max(depth - 5, min(3, depth - 2))``: the official count at 256 px and above, three below 256
when there are that many blocks between the innermost and the outermost, always the ones just
outside the innermost block.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganforge.errors import ConfigError
from ganforge.nets.init import dcgan_init
from ganforge.nets.norm import check_norm, conv_bias, norm2d


def unet_depth(image_size: int) -> int:
    """Number of stride-2 layers that take `image_size` to a 1x1 bottleneck: log2(image_size)."""
    if image_size < 4 or image_size & (image_size - 1):
        raise ConfigError(
            f"the U-Net needs a power-of-two image size >= 4 (e.g. 64, 128, 256), got {image_size}"
        )
    return image_size.bit_length() - 1


def encoder_channels(width: int, depth: int) -> list[int]:
    """Channels out of each encoder layer: width x (1, 2, 4, 8, 8, …)."""
    return [width * 2 ** min(k, 3) for k in range(depth)]


def dropout_count(depth: int) -> int:
    """Decoder blocks with dropout (see the module docstring): 3 at 256 px, 4 at 512."""
    return max(depth - 5, min(3, depth - 2))


def _down(c_in: int, c_out: int, norm: str, first: bool, last: bool) -> nn.Sequential:
    """Encoder layer: [LeakyReLU(0.2)] 4x4 stride-2 conv [norm]; no norm at either end."""
    layers: list[nn.Module] = [] if first else [nn.LeakyReLU(0.2)]
    layers.append(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=conv_bias(norm)))
    if not (first or last):
        layers.append(norm2d(norm, c_out))
    return nn.Sequential(*layers)


def _up(c_in: int, c_out: int, norm: str, dropout: bool) -> nn.Sequential:
    """Decoder layer: ReLU, 4x4 stride-2 transposed conv, norm [, Dropout(0.5)]."""
    layers: list[nn.Module] = [
        nn.ReLU(),
        nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=conv_bias(norm)),
        norm2d(norm, c_out),
    ]
    if dropout:
        layers.append(nn.Dropout(0.5))
    return nn.Sequential(*layers)


def _outermost_up(c_in: int, c_out: int) -> nn.Sequential:
    """Last decoder layer: ReLU, 4x4 stride-2 transposed conv (with bias), tanh."""
    return nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.Tanh())


class UNetGenerator(nn.Module):
    """image (B, in_channels, S, S) -> image (B, out_channels, S, S) in [-1, 1].

    ``down[k]`` and ``up[k]`` are the encoder and decoder layers at depth k (0 = outermost,
    ``depth - 1`` = innermost). ``up[k]`` reads the concatenation (skip first, as in the
    official code) of ``down[k]``'s output and ``up[k + 1]``'s output, except the innermost
    ``up[depth - 1]``, which reads the bottleneck alone. Weights are N(0, 0.02), BatchNorm scales
    N(1, 0.02), as the official ``init_weights('normal', 0.02)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        image_size: int,
        width: int = 64,
        norm: str = "batch",
        dropout: bool = True,
    ) -> None:
        super().__init__()
        check_norm(norm)
        self.depth = depth = unet_depth(image_size)
        chans = encoder_channels(width, depth)
        ins = [in_channels, *chans[:-1]]
        self.down = nn.ModuleList(
            _down(ins[k], chans[k], norm, k == 0, k == depth - 1) for k in range(depth)
        )
        first_dropout = depth - 1 - dropout_count(depth) if dropout else depth
        ups: list[nn.Module] = [_outermost_up(2 * chans[0], out_channels)]
        ups += [_up(2 * chans[k], chans[k - 1], norm, k >= first_dropout)
                for k in range(1, depth - 1)]
        ups.append(_up(chans[-1], chans[-2], norm, False))  # innermost: no concatenation
        self.up = nn.ModuleList(ups)
        dcgan_init(self)

    def encode(self, x: Tensor) -> list[Tensor]:
        """The encoder outputs, outermost first: (B, c_k, S / 2^(k+1), S / 2^(k+1)) at depth k."""
        skips = []
        h = x  # (B, in_channels, S, S)
        for block in self.down:
            h = block(h)  # (B, c_k, S / 2^(k+1), S / 2^(k+1))
            skips.append(h)
        return skips  # the last one is the (B, 8 * width, 1, 1) bottleneck

    def forward(self, x: Tensor) -> Tensor:
        skips = self.encode(x)
        h = self.up[-1](skips[-1])  # (B, c_{n-2}, 2, 2)
        for k in range(self.depth - 2, -1, -1):
            h = self.up[k](torch.cat([skips[k], h], 1))  # (B, c_{k-1}, S / 2^k, S / 2^k)
        return h  # (B, out_channels, S, S)
