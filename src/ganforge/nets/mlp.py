"""Multilayer perceptrons: the networks of the original GAN (Goodfellow et al. 2014)."""

from __future__ import annotations

import math

from torch import Tensor, nn

from ganforge.tricks.minibatch import MinibatchDiscrimination, MinibatchStdDev


class MLPGenerator(nn.Module):
    """z -> hidden layers (LeakyReLU) -> output; tanh for images, linear for points."""

    def __init__(
        self,
        latent_dim: int,
        out_shape: tuple[int, ...],
        hidden: tuple[int, ...] = (256, 512, 1024),
        batch_norm: bool = True,
        tanh: bool = True,
        in_extra: int = 0,
    ) -> None:
        super().__init__()
        self.out_shape = out_shape
        layers: list[nn.Module] = []
        width = latent_dim + in_extra
        for i, h in enumerate(hidden):
            layers.append(nn.Linear(width, h))
            if batch_norm and i > 0:  # no norm on the first layer, as in the classic scripts
                layers.append(nn.BatchNorm1d(h))
            layers.append(nn.LeakyReLU(0.2))
            width = h
        layers.append(nn.Linear(width, math.prod(out_shape)))
        if tanh:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        out = self.net(z)  # (B, prod(out_shape))
        return out.view(z.shape[0], *self.out_shape)


def linear_head(width: int, out_dim: int, mb_disc: bool = False, mb_stddev: bool = False
                ) -> nn.Module:
    """D's last layer on (B, width) features, after the optional minibatch layers."""
    layers: list[nn.Module] = []
    if mb_stddev:
        layers.append(MinibatchStdDev())  # (B, width + 1)
        width += 1
    if mb_disc:
        mbd = MinibatchDiscrimination(width)
        layers.append(mbd)  # (B, width + kernels)
        width += mbd.kernels
    head = nn.Linear(width, out_dim)
    return nn.Sequential(*layers, head) if layers else head


class MLPDiscriminator(nn.Module):
    """x -> hidden layers (LeakyReLU) -> one raw output per example (a logit or critic value)."""

    def __init__(
        self,
        in_shape: tuple[int, ...],
        hidden: tuple[int, ...] = (1024, 512, 256),
        in_extra: int = 0,
        out_dim: int = 1,
        minibatch_disc: bool = False,
        minibatch_stddev: bool = False,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = math.prod(in_shape) + in_extra
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            width = h
        self.body = nn.Sequential(*layers)
        self.feature_dim = width
        self.head = linear_head(width, out_dim, minibatch_disc, minibatch_stddev)

    def features(self, x: Tensor) -> Tensor:
        """The last hidden layer (for feature matching and auxiliary heads)."""
        return self.body(x.flatten(1))  # (B, hidden[-1])

    def forward_features(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """D's raw output and its last hidden layer, in one pass."""
        h = self.features(x)
        return self.head(h).squeeze(-1), h  # (B,) when out_dim == 1

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_features(x)[0]
