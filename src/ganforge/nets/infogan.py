"""The MNIST networks of InfoGAN (Chen et al. 2016, appendix C.1, Table 1), for 28x28 images:

    G: FC 1024 BN ReLU -> FC 7x7x128 BN ReLU -> 4x4 upconv 64 s2 BN ReLU -> 4x4 upconv C s2 tanh
    D: 4x4 conv 64 s2 lReLU -> 4x4 conv 128 s2 BN lReLU -> FC 1024 BN lReLU -> FC output

(LeakyReLU slope 0.1; tanh instead of the paper's sigmoid because our images are in [-1, 1]).
Channels scale with --width (64 reproduces the paper; the FC layer has 16 x width units), and
32 and 64 pixel images get more stride-2 stages, as the DCGAN nets do. D's last hidden layer
(the FC 1024) is what InfoGAN's Q head, AC-GAN's class head and feature matching read. These
fully connected layers are what made InfoGAN's categorical code find the digit classes in our
runs (benchmarks/results/conditional.md).
"""

from __future__ import annotations

from torch import Tensor, nn

from ganforge.nets.dcgan import _norm2d, _plan
from ganforge.nets.mlp import linear_head


def _norm1d(kind: str, features: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm1d(features)
    if kind == "layer":  # per-sample, allowed with a gradient penalty
        return nn.LayerNorm(features)
    return nn.Identity()


class InfoGANGenerator(nn.Module):
    """z (B, latent + extra) -> image (B, C, S, S) in [-1, 1]."""

    def __init__(self, latent_dim: int, channels: int, image_size: int = 28, width: int = 64,
                 in_extra: int = 0) -> None:
        super().__init__()
        self.base, stages = _plan(image_size)
        self.ch = ch = width * 2 ** (stages - 1)  # 128 at 7x7 for MNIST with width 64
        self.fc = nn.Sequential(
            nn.Linear(latent_dim + in_extra, 16 * width), nn.BatchNorm1d(16 * width), nn.ReLU(True),
            nn.Linear(16 * width, ch * self.base**2), nn.BatchNorm1d(ch * self.base**2),
            nn.ReLU(True),
        )
        layers: list[nn.Module] = []
        for _ in range(stages - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1), nn.BatchNorm2d(ch // 2),
                       nn.ReLU(True)]
            ch //= 2
        self.net = nn.Sequential(*layers, nn.ConvTranspose2d(ch, channels, 4, 2, 1), nn.Tanh())

    def forward(self, z: Tensor) -> Tensor:
        h = self.fc(z).view(z.shape[0], self.ch, self.base, self.base)  # (B, 2w, 7, 7)
        return self.net(h)  # (B, C, 28, 28)


class InfoGANDiscriminator(nn.Module):
    """image (B, C, S, S) -> one raw output per image (B,), or (B, out_dim)."""

    def __init__(self, channels: int, image_size: int = 28, width: int = 64,
                 norm: str = "batch", in_extra: int = 0, out_dim: int = 1,
                 minibatch_disc: bool = False, minibatch_stddev: bool = False) -> None:
        super().__init__()
        base, stages = _plan(image_size)
        ch, hidden = width, 16 * width
        layers: list[nn.Module] = [nn.Conv2d(channels + in_extra, ch, 4, 2, 1),
                                   nn.LeakyReLU(0.1, True)]
        for _ in range(stages - 1):
            layers += [nn.Conv2d(ch, 2 * ch, 4, 2, 1, bias=norm == "none"),
                       _norm2d(norm, 2 * ch), nn.LeakyReLU(0.1, True)]
            ch *= 2
        layers += [nn.Flatten(), nn.Linear(ch * base * base, hidden, bias=norm == "none"),
                   _norm1d(norm, hidden), nn.LeakyReLU(0.1, True)]
        self.body = nn.Sequential(*layers)  # (B, 16w)
        self.feature_dim = hidden
        self.head = linear_head(hidden, out_dim, minibatch_disc, minibatch_stddev)

    def forward_features(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """D's raw output and its last hidden layer (B, 16w), in one pass."""
        h = self.body(x)
        return self.head(h).squeeze(-1), h

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_features(x)[0]
