"""Batches read from a raw uint8 file row by row, so a process's memory does not grow with the
file.

Indexing a memory-mapped file would map the pages the kernel brings in around each row into the
process: with its readahead (8 MB on a disk with read_ahead_kb = 8192) and page-cache folios of
up to 2 MB, 64 scattered 12 KB rows mapped about 100 MB into a test process, batch after batch.
Reading each row with a positioned read copies exactly its bytes into the batch; the rest stays
in the kernel's page cache, shared and reclaimable.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import torch
from torch import Tensor

from ganforge.errors import DataError


class RowReader:
    """Rows of a raw uint8 array of `shape` (N, ...) stored in the file `path`."""

    def __init__(self, path: Path, shape: tuple[int, ...]) -> None:
        self.path, self.shape = path, tuple(shape)
        self.row_bytes = int(torch.Size(self.shape[1:]).numel())
        self.file: io.FileIO = open(path, "rb", buffering=0)  # noqa: SIM115 (lives as the reader)

    def __call__(self, idx: Tensor) -> Tensor:
        """uint8 (len(idx), ...): the rows `idx`, read straight into the batch's memory."""
        out = torch.empty((len(idx), *self.shape[1:]), dtype=torch.uint8)
        view = out.numpy().data.cast("B")  # the batch's bytes, written in place
        for k, i in enumerate(idx.tolist()):
            part = view[k * self.row_bytes : (k + 1) * self.row_bytes]
            if _read_at(self.file, part, int(i) * self.row_bytes) != self.row_bytes:
                raise DataError(f"prepared data {self.path} ends before row {i}: it was cut "
                                "short while in use; run `ganforge prepare` again")
        return out


def _read_at(file: io.FileIO, buf: memoryview, offset: int) -> int:
    """Read len(buf) bytes at `offset` into `buf` (one pread where the system has it)."""
    if hasattr(os, "preadv"):
        return os.preadv(file.fileno(), [buf], offset)
    file.seek(offset)
    return file.readinto(buf) or 0
