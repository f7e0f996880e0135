"""Multi-domain image data (StarGAN): faces with binary attributes (CelebA) or images in one
folder per domain (RaFD-style, one label each).

Images are decoded once, squared and resized at load time and kept in memory as uint8
(N, C, S, S); each batch is flipped horizontally per example (probability 0.5, drawn from the
batch's seeded generator, so a resumed run sees the same batches) on tensors, as StarGAN's
`RandomHorizontalFlip`. Without a generator (previews, evaluation) nothing is flipped.

A batch carries `attrs` (B, A) float in {0, 1} for attribute data, `y` (B,) int64 domain
indices for domain folders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ganforge.data.batch import Batch
from ganforge.data.dataset import to_unit_range
from ganforge.data.spec import DataSpec
from ganforge.errors import DataError


def flip_mask(n: int, gen: torch.Generator | None) -> Tensor:
    """(n,) bool: which examples of a batch are mirrored (none without `gen`)."""
    if gen is None:
        return torch.zeros(n, dtype=torch.bool)
    return torch.rand(n, generator=gen) < 0.5


def flipped(images: Tensor, mask: Tensor) -> Tensor:
    """`images` (B, C, H, W) with the rows where `mask` mirrored left-right (a copy)."""
    out = images.clone()
    if bool(mask.any()):
        out[mask] = images[mask].flip(-1)
    return out


@dataclass
class MultiDomainImages:
    """Square uint8 images (N, C, S, S) with either binary `attrs` (N, A) in {0, 1} named by
    `attributes`, or domain `labels` (N,) in [0, len(domains)).

    `split_rule` says which images this split holds (recorded in the run's meta.json); `reader`,
    for images mapped from a prepared file, reads a batch's rows from the file (see `rows.py`).
    """

    name: str
    images: Tensor
    attrs: Tensor | None = None
    attributes: tuple[str, ...] = ()
    labels: Tensor | None = None
    domains: tuple[str, ...] = ()
    flip: bool = True
    split_rule: str = ""
    skipped: int = 0
    reader: Callable[[Tensor], Tensor] | None = field(default=None, repr=False, compare=False)
    kind: str = field(default="image", init=False)

    def __post_init__(self) -> None:
        shape = tuple(self.images.shape)
        n = shape[0] if len(shape) == 4 else 0
        if self.images.dtype != torch.uint8 or n == 0 or shape[2] != shape[3]:
            raise DataError(f"{self.name}: images must be uint8 (N >= 1, C, S, S), got "
                            f"{self.images.dtype} of shape {tuple(self.images.shape)}")
        if (self.attrs is None) == (self.labels is None):
            raise DataError(f"{self.name}: give either attributes or domain labels, not both")
        if self.attrs is not None and tuple(self.attrs.shape) != (n, len(self.attributes)):
            raise DataError(f"{self.name}: {n} images but attributes of shape "
                            f"{tuple(self.attrs.shape)} for {len(self.attributes)} names")
        if self.labels is not None and tuple(self.labels.shape) != (n,):
            raise DataError(f"{self.name}: {n} images but labels of shape "
                            f"{tuple(self.labels.shape)}")

    def __len__(self) -> int:
        """Number of images."""
        return int(self.images.shape[0])

    def spec(self) -> DataSpec:
        """Image shape, and the attribute names or the domain names (with their count)."""
        c, s = int(self.images.shape[1]), int(self.images.shape[2])
        return DataSpec("image", (c, s, s), num_classes=len(self.domains) or None,
                        domains=self.domains, attributes=self.attributes,
                        split_rule=self.split_rule)

    def make_batch(self, idx: Tensor, device: torch.device, gen: torch.Generator | None = None,
                   labels: bool = True) -> Batch:
        """Images `idx` in [-1, 1], mirrored per example when `gen` says so, with their
        attributes (float {0, 1}) or domain labels."""
        mask = flip_mask(len(idx), gen if self.flip else None)
        rows = self.images[idx] if self.reader is None else self.reader(idx)
        x = to_unit_range(flipped(rows, mask), device)  # (B, C, S, S)
        attrs = self.attrs[idx].to(device, torch.float32) if self.attrs is not None else None
        y = self.labels[idx].to(device) if self.labels is not None else None
        return Batch(x=x, y=y, attrs=attrs)
