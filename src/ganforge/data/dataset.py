"""The in-memory dataset every loader and metric works on."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ganforge.errors import DataError

KINDS = ("image", "points")


@dataclass
class InMemoryDataset:
    """A whole dataset held in memory.

    `data` is uint8 (N, C, H, W) for images (normalised per batch by the loader) or float32
    (N, D) for point sets. `labels` are int64 (N,) class indices in [0, num_classes) when the
    dataset has classes. `skipped` counts unreadable files skipped while loading a folder.
    """

    name: str
    data: Tensor
    labels: Tensor | None = None
    num_classes: int | None = None
    kind: str = "image"
    skipped: int = 0

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
