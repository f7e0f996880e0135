"""The in-memory dataset every loader and metric works on, and the protocol of training data.

The loader only draws example indices (a seeded permutation per epoch) and a seeded generator per
batch; a dataset turns them into a `Batch` (`make_batch`). So translation datasets (paired and
unpaired image sets with random crops and flips) plug into the same resumable loader.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import Tensor

from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.errors import DataError


class TrainData(Protocol):
    """What the trainer needs of a dataset."""

    name: str
    kind: str
    skipped: int

    def __len__(self) -> int: ...

    def spec(self) -> DataSpec:
        """The facts a variant builds its networks from."""
        ...

    def make_batch(self, idx: Tensor, device: torch.device, gen: torch.Generator | None = None,
                   labels: bool = True) -> Batch:
        """The batch of examples `idx` on `device`; `gen` drives random augmentation (None:
        none, e.g. for previews and evaluation)."""
        ...


def to_unit_range(images: Tensor, device: torch.device) -> Tensor:
    """uint8 images copied to `device` (4x fewer bytes than float) and normalised there to
    [-1, 1]; float data (points) is copied as it is."""
    if images.dtype != torch.uint8:
        return images.to(device)
    return images.to(device, non_blocking=True).float().mul_(2 / 255).sub_(1)

KINDS = ("image", "points")


@dataclass
class InMemoryDataset:
    """A whole dataset held in memory.

    `data` is uint8 (N, C, H, W) for images (normalised per batch by the loader) or float32
    (N, D) for point sets. `labels` are int64 (N,) class indices in [0, num_classes) when the
    dataset has classes. `skipped` counts unreadable files skipped while loading a folder.
    `reader`, for data mapped from a prepared file, reads a batch's rows from the file (see
    `rows.py`); without it a batch indexes `data`.
    """

    name: str
    data: Tensor
    labels: Tensor | None = None
    num_classes: int | None = None
    kind: str = "image"
    skipped: int = 0
    reader: Callable[[Tensor], Tensor] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DataError(f"dataset kind must be one of {', '.join(KINDS)}, got '{self.kind}'")
        want_dim = 4 if self.kind == "image" else 2
        if self.data.dim() != want_dim:
            raise DataError(
                f"{self.kind} dataset '{self.name}' needs {want_dim}-D data, "
                f"got shape {tuple(self.data.shape)}"
            )
        if self.labels is not None:
            if self.labels.shape != (self.data.shape[0],):
                raise DataError(
                    f"dataset '{self.name}' has {self.data.shape[0]} examples but labels of "
                    f"shape {tuple(self.labels.shape)}"
                )
            self.labels = self.labels.to(torch.int64)

    def __len__(self) -> int:
        """Number of examples."""
        return int(self.data.shape[0])

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one example: (C, H, W) for images, (D,) for points."""
        return tuple(int(s) for s in self.data.shape[1:])

    def spec(self) -> DataSpec:
        """Kind, shape and number of classes."""
        return DataSpec(self.kind, self.sample_shape, self.num_classes)

    def make_batch(self, idx: Tensor, device: torch.device, gen: torch.Generator | None = None,
                   labels: bool = True) -> Batch:
        """Examples `idx` (no augmentation: `gen` is unused) with their labels."""
        y = self.labels[idx].to(device) if labels and self.labels is not None else None
        rows = self.data[idx] if self.reader is None else self.reader(idx)
        return Batch(x=to_unit_range(rows, device), y=y)
