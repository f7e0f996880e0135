"""Streaming feature extraction: one pass over a source, keeping only what the metrics need.

Memory is bounded by the metrics, not by the number of samples: feature moments (d + d^2
float64), a seeded reservoir of at most `max_samples` raw features, per-split class-probability
sums for the Inception Score, a class histogram for mode counts, and (GAN-train/test only) the
labelled images themselves, capped at `max_samples`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from ganforge.errors import GanforgeError
from ganforge.evaluation.shared import extracted
from ganforge.evaluation.sources import SampleSource
from ganforge.features import Extractor
from ganforge.metrics import FeatureStats, ProbStats


@dataclass(frozen=True)
class Needs:
    """What the requested metrics need from each side."""

    samples: bool = False  # raw features (KID, P/R, D/C, 1-NN, W1, toy modes)
    probs: bool = False  # class probabilities (IS, Mode Score, mode counts)
    images: bool = False  # labelled images (GAN-train / GAN-test)


@dataclass
class SideStats:
    """Everything accumulated from one source."""

    source: SampleSource
    features: FeatureStats
    splits: list[ProbStats] = field(default_factory=list)  # one per Inception Score part
    probs_total: ProbStats | None = None  # all samples (Mode Score)
    class_counts: np.ndarray | None = None
    images: list[Tensor] = field(default_factory=list)
    labels: list[Tensor] = field(default_factory=list)
    shape: tuple[int, ...] = ()
    planned: int = 0

    @property
    def count(self) -> int:
        """Samples seen."""
        return self.features.count

    def predicted_labels(self) -> np.ndarray:
        """Argmax labels rebuilt from the class histogram (sorted; order does not matter)."""
        if self.class_counts is None:
            raise GanforgeError("no class probabilities were accumulated")
        return np.repeat(np.arange(len(self.class_counts)), self.class_counts)


def split_of(index: np.ndarray, n: int, splits: int) -> np.ndarray:
    """IS part of stream positions `index`: part s holds [s n // splits, (s + 1) n // splits)."""
    bounds = np.array([(s + 1) * n // splits for s in range(splits)])
    return np.minimum(np.searchsorted(bounds, index, side="right"), splits - 1)


def _add_probs(side: SideStats, probs: np.ndarray, start: int, is_splits: int) -> None:
    """Route a batch's probabilities to their IS parts and count the argmax classes."""
    if side.probs_total is None:
        side.splits = [ProbStats() for _ in range(is_splits)]
        side.probs_total = ProbStats()
    side.probs_total.update(probs)
    parts = split_of(start + np.arange(len(probs)), max(side.planned, 1), is_splits)
    for s in np.unique(parts):
        side.splits[s].update(probs[parts == s])
    counts = np.bincount(probs.argmax(1), minlength=probs.shape[1])
    side.class_counts = counts if side.class_counts is None else side.class_counts + counts


def accumulate(
    source: SampleSource,
    extractor: Extractor,
    needs: Needs,
    *,
    n: int,
    batch_size: int,
    seed: int,
    max_samples: int,
    is_splits: int = 10,
) -> SideStats:
    """Stream `n` samples of `source` through `extractor` and keep what `needs` asks for."""
    planned = source.count(n)
    is_splits = max(1, min(is_splits, planned))  # never an empty Inception Score part
    side = SideStats(source, FeatureStats(min(planned, max_samples) if needs.samples else 0,
                                          seed=seed + 1), planned=planned)
    kept = 0
    for chunk, feats, probs in extracted(source.chunks(n, batch_size, seed), extractor):
        start = side.count
        side.shape = tuple(chunk.x.shape[1:])
        if needs.probs and probs is not None:
            _add_probs(side, probs, start, is_splits)
        if needs.images and chunk.y is not None and kept < max_samples:
            side.images.append(chunk.x[: max_samples - kept].clone())
            side.labels.append(chunk.y[: max_samples - kept].clone())
            kept += len(side.images[-1])
        side.features.update(feats)
    if side.count == 0:
        raise GanforgeError(f"{source.name} gave no samples to evaluate")
    return side


def gathered(parts: list[Tensor]) -> Tensor:
    """Concatenate kept batches (an empty tensor when there are none)."""
    return torch.cat(parts) if parts else torch.empty(0)
