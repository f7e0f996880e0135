"""Each rank's share of the global batch: the loader still walks the global seeded order with the
global --batch-size and builds each global batch (its random augmentation drawn for the whole
batch), and rank r keeps its contiguous slice of rows [r * B / N, (r + 1) * B / N). So the
examples, and the crops and flips, of a step do not depend on the number of processes N."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, replace
from typing import Any

from torch import Tensor

from ganforge.data.batch import Batch
from ganforge.errors import ConfigError


def check_split(batch_size: int, pack: int, size: int) -> int:
    """Rows per rank of a global batch of `batch_size`, or a one-line error when it does not
    split evenly (into whole packs with --pack)."""
    if batch_size % (size * pack):
        unit = f"{size} processes x --pack {pack}" if pack > 1 else f"{size} processes"
        raise ConfigError(f"--batch-size {batch_size} (the global batch) does not split evenly "
                          f"across {unit}; choose a multiple of {size * pack}")
    return batch_size // size


def slice_batch(batch: Batch, rank: int, size: int) -> Batch:
    """Rank `rank`'s contiguous share of every field of `batch`."""
    n = batch.size // size
    rows: dict[str, Any] = {}
    for f in fields(batch):
        value = getattr(batch, f.name)
        if isinstance(value, Tensor):
            rows[f.name] = value[rank * n:(rank + 1) * n]
    return replace(batch, **rows)


class ShardedLoader:
    """A loader of global batches that yields this rank's share of each."""

    def __init__(self, loader: Any, rank: int, size: int) -> None:
        self.loader, self.rank, self.size = loader, rank, size

    def __len__(self) -> int:
        return len(self.loader)

    def epoch(self, epoch: int, start: int = 0) -> Iterator[Batch]:
        """This rank's share of the batches of `epoch`, from batch index `start`."""
        for batch in self.loader.epoch(epoch, start):
            yield slice_batch(batch, self.rank, self.size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)
