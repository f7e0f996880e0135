"""`ganforge eval` under torchrun: the processes share the feature extraction. Every rank walks
the same chunks (same seeds); of each round of N chunks rank r extracts the r-th, and the outputs
are gathered, so every rank accumulates every chunk's features in the order one process would,
and the metrics come out as one process computes them, N times faster where extraction (an
Inception pass) dominates. Generating or decoding the chunks is not shared."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

import numpy as np
import torch.distributed as dist

from ganforge.evaluation.sources import Chunk
from ganforge.features import Extractor
from ganforge.train.distributed.world import World

Outputs = tuple[np.ndarray, np.ndarray | None]


def extracted(chunks: Iterable[Chunk], extractor: Extractor
              ) -> Iterator[tuple[Chunk, np.ndarray, np.ndarray | None]]:
    """Each chunk with its features and class probabilities, in order."""
    world = World.current()
    if not world.distributed:
        for chunk in chunks:
            yield chunk, *extractor.outputs(chunk.x)
        return
    it = iter(chunks)
    while batch := list(itertools.islice(it, world.size)):
        mine = extractor.outputs(batch[world.rank].x) if world.rank < len(batch) else None
        outputs: list[Outputs | None] = [None] * world.size
        dist.all_gather_object(outputs, mine)
        for chunk, out in zip(batch, outputs):
            assert out is not None
            yield chunk, *out
