"""Shared pieces of the conditional variants (cgan, acgan, infogan): labels into the networks,
class-ordered sample grids, and the check that the data has labels.

Labels are one-hot, as in Mirza & Osindero (2014): concatenated to z for G, and for D
concatenated to the flattened input (MLP) or broadcast as K constant maps next to the image's
channels (conv nets). A conditional variant's generator inputs hold the labels under "y".
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.config import TrainConfig
from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError
from ganforge.nets.build import CONV_ARCHS, resolve_arch
from ganforge.variants.base import Variant


def require_classes(cfg: TrainConfig, spec: DataSpec, name: str) -> int:
    """The number of classes, or a one-line error when the data has no labels."""
    if not spec.num_classes:
        raise ConfigError(f"{name} needs a labelled dataset (mnist, fashion-mnist), but "
                          f"'{cfg.data}' has no class labels; use an unconditional model (dcgan)")
    return int(spec.num_classes)


def batch_labels(batch: Batch) -> Tensor:
    """The batch's labels (the loader gives them for every labelled dataset)."""
    if batch.y is None:
        raise ValueError("a conditional variant needs batch.y; the batch has no labels")
    return batch.y


def one_hot(y: Tensor, num_classes: int, like: Tensor) -> Tensor:
    """Labels (B,) as float one-hot rows (B, K) on `like`'s device and dtype."""
    return F.one_hot(y.long(), num_classes).to(device=like.device, dtype=like.dtype)


class LabelledGenerator(nn.Module):
    """G(z, y) = net([z, onehot(y)]): `net` built with `in_extra = num_classes`."""

    def __init__(self, net: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.net, self.num_classes = net, num_classes

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        return self.net(torch.cat([z, one_hot(y, self.num_classes, z)], dim=1))


class LabelledDiscriminator(nn.Module):
    """D(x, y) = net([x, onehot(y)]): label maps as extra channels (conv) or features (MLP)."""

    def __init__(self, net: nn.Module, num_classes: int, spatial: bool) -> None:
        super().__init__()
        self.net, self.num_classes, self.spatial = net, num_classes, spatial

    def _join(self, x: Tensor, y: Tensor) -> Tensor:
        code = one_hot(y, self.num_classes, x)  # (B, K)
        if self.spatial:
            maps = code[:, :, None, None].expand(-1, -1, *x.shape[2:])  # (B, K, H, W)
            return torch.cat([x, maps], dim=1)
        return torch.cat([x.flatten(1), code], dim=1)  # (B, D + K)

    def forward_features(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """D's raw output (B,) and last hidden features (B, F)."""
        return self.net.forward_features(self._join(x, y))  # type: ignore[operator]

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.forward_features(x, y)[0]


class ClassConditional(Variant):
    """Base of the class-conditional variants (cgan; acgan, listing it before
    SingleCriticVariant): generator inputs are noise z and a class y drawn uniformly, sample grids
    show one class a row. A subclass sets `num_classes`, `latent_dim` and `generator` (a
    `LabelledGenerator`)."""

    num_classes: int
    latent_dim: int
    generator: nn.Module

    def noise(self, n: int, gen: torch.Generator | None = None) -> dict[str, Tensor]:
        """z (n, latent_dim) and y (n,); drawn on the CPU when `gen` is given (fixed grids)."""
        device = "cpu" if gen else self.device
        z = torch.randn(n, self.latent_dim, generator=gen, device=device)
        y = torch.randint(0, self.num_classes, (n,), generator=gen, device=device)
        return {"z": z.to(self.device), "y": y.to(self.device)}

    def grid_inputs(self, n: int, gen: torch.Generator) -> dict[str, Tensor]:
        """Fixed grid inputs: row r shows class r mod K."""
        inputs = self.noise(n, gen)
        inputs["y"] = grid_rows(n, self.num_classes).to(self.device)
        return inputs

    def generate(self, inputs: dict[str, Tensor], net: nn.Module | None = None) -> Tensor:
        """G(z, y), with `net` in G's place when given (an EMA copy)."""
        return (net or self.generator)(z=inputs["z"], y=inputs["y"])


def spatial_labels(cfg: TrainConfig, spec: DataSpec) -> bool:
    """True when D is convolutional (labels enter as maps)."""
    return resolve_arch(cfg, spec) in CONV_ARCHS


def grid_rows(n: int, num_classes: int) -> Tensor:
    """Labels for an n-image grid drawn with int(sqrt(n)) per row: row r shows class r mod K
    (grid_size K^2, e.g. 100 for MNIST, gives one row per class)."""
    per_row = max(1, int(math.sqrt(n)))
    return (torch.arange(n) // per_row) % num_classes


@runtime_checkable
class Traversable(Protocol):
    """A variant with latent codes whose values can be swept (InfoGAN)."""

    def traversal_inputs(self, steps: int, gen: torch.Generator, span: float = 2.0
                         ) -> tuple[dict[str, Tensor], int]:
        """Generator inputs of a traversal figure and its number of columns."""
        ...
