"""Deterministic, resumable minibatches from an in-memory dataset."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from ganforge.data.batch import Batch
from ganforge.data.dataset import TrainData
from ganforge.errors import ConfigError

SEED_STRIDE = 100003


class BatchLoader:
    """Yields shuffled batches of a dataset, one reproducible permutation per epoch.

    The order of epoch `e` comes from a private generator seeded with `seed * 100003 + e`, and
    the random augmentation of batch `k` (crops, flips, unpaired partners) from one seeded with
    the epoch and `k`, so a run resumed at batch `k` of epoch `e` sees exactly the batches it
    would have seen. Images stay uint8 in memory and are normalised to [-1, 1] on the device,
    one batch at a time.
    """

    def __init__(
        self,
        dataset: TrainData,
        batch_size: int,
        *,
        seed: int,
        device: torch.device | str = "cpu",
        drop_last: bool = True,
        with_labels: bool = True,
    ) -> None:
        n = len(dataset)
        if batch_size <= 0:
            raise ConfigError(
                f"batch size must be positive, got {batch_size}; use --batch-size >= 1"
            )
        if batch_size > n:
            raise ConfigError(
                f"batch size {batch_size} is larger than the dataset ({n} examples); "
                f"use --batch-size <= {n}"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.device = torch.device(device)
        self.drop_last = drop_last
        self.with_labels = with_labels

    def __len__(self) -> int:
        """Batches per epoch."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def order(self, epoch: int) -> Tensor:
        """The permutation of example indices used in `epoch`."""
        gen = torch.Generator()
        gen.manual_seed(self.seed * SEED_STRIDE + int(epoch))
        return torch.randperm(len(self.dataset), generator=gen)

    def epoch(self, epoch: int, start: int = 0) -> Iterator[Batch]:
        """Yield the batches of `epoch`, beginning at batch index `start`."""
        total = len(self)
        if not 0 <= start <= total:
            raise ConfigError(f"start batch {start} is outside epoch of {total} batches")
        perm = self.order(epoch)
        for i in range(start, total):
            gen = torch.Generator().manual_seed((self.seed * SEED_STRIDE + int(epoch)) * 2**20 + i)
            yield self.batch(perm[i * self.batch_size : (i + 1) * self.batch_size], gen)

    def batch(self, idx: Tensor, gen: torch.Generator | None = None) -> Batch:
        """Build the device batch for example indices `idx` (a CPU int64 tensor)."""
        return self.dataset.make_batch(idx, self.device, gen, self.with_labels)
