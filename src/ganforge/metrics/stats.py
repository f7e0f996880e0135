"""Streaming statistics: feature moments for FID (Heusel et al. 2017) and class-probability sums
for the Inception Score (Salimans et al. 2016), accumulated batch by batch in float64.

`FeatureStats` keeps the count, the sum and the sum of outer products of the features, all taken
relative to a fixed shift (the first sample seen) so that features with a large common offset do
not lose precision to cancellation. The shift does not depend on the batch size, so the mean and
covariance are batch-size invariant up to float64 rounding. It can also keep a bounded buffer of
raw features (reservoir sampling, Vitter's Algorithm R, with a seeded generator) for the
sample-based metrics (KID, precision/recall, ...): one uniform draw per sample beyond the buffer,
in stream order, so the kept subset is the same whatever the batch size.
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy

from ganforge.errors import GanforgeError
from ganforge.metrics._arrays import ArrayLike, as_probs, check_int, to_float64


class FeatureStats:
    """Running count, mean and unbiased covariance of (N, d) features, plus a sample reservoir."""

    def __init__(self, max_samples: int = 0, seed: int = 0) -> None:
        """Keep at most `max_samples` raw features (0: none), drawn with Generator(`seed`)."""
        self.max_samples = check_int(max_samples, "max_samples", minimum=0)
        self.count = 0
        self.dim: int | None = None
        self._rng = np.random.default_rng(seed)
        self._shift, self._sum = np.zeros(0), np.zeros(0)
        self._outer, self._buffer = np.zeros((0, 0)), np.zeros((0, 0))

    def update(self, batch_features: ArrayLike) -> None:
        """Add a batch of features (B, d); B may be 0."""
        x = to_float64(batch_features, "batch_features")
        if x.ndim != 2 or (self.dim is not None and x.shape[1] != self.dim):
            raise GanforgeError(f"features must have shape (B, {self.dim or 'd'}), got {x.shape}")
        if x.shape[0] == 0:
            return
        if self.dim is None:
            self.dim = d = x.shape[1]
            self._shift, self._sum, self._outer = x[0].copy(), np.zeros(d), np.zeros((d, d))
            self._buffer = np.empty((self.max_samples, d))
        xc = x - self._shift
        self._sum += xc.sum(axis=0)
        self._outer += xc.T @ xc
        self._reservoir(x)
        self.count += x.shape[0]

    def _reservoir(self, x: np.ndarray) -> None:
        """Algorithm R over the stream: sample i replaces slot floor(u * (i + 1)) if < capacity."""
        cap, start = self.max_samples, self.count
        if cap == 0:
            return
        fill = max(0, min(cap - start, x.shape[0]))
        self._buffer[start : start + fill] = x[:fill]
        rest = x[fill:]
        if rest.shape[0] == 0:
            return
        index = start + fill + np.arange(rest.shape[0])
        slots = np.floor(self._rng.random(rest.shape[0]) * (index + 1)).astype(np.int64)
        keep = np.flatnonzero(slots < cap)
        # Within one batch a later sample overwrites an earlier one in the same slot.
        _, last = np.unique(slots[keep][::-1], return_index=True)
        chosen = keep[len(keep) - 1 - last]
        self._buffer[slots[chosen]] = rest[chosen]

    def mean(self) -> np.ndarray:
        """Mean feature (d,)."""
        self._need(1)
        return self._shift + self._sum / self.count

    def cov(self) -> np.ndarray:
        """Unbiased (N - 1) covariance (d, d)."""
        self._need(2)
        centred_sum = self._outer - np.outer(self._sum, self._sum) / self.count
        c = centred_sum / (self.count - 1)
        return (c + c.T) / 2.0

    def samples(self) -> np.ndarray:
        """The kept raw features (min(count, max_samples), d), in slot order (a copy)."""
        return self._buffer[: min(self.count, self.max_samples)].copy()

    def _need(self, n: int) -> None:
        """Raise unless at least `n` samples were added."""
        if self.count < n:
            raise GanforgeError(f"need at least {n} feature rows, got {self.count}")


class ProbStats:
    """Running sums of class probabilities p(y|x) and of sum_y p log p, for IS marginals."""

    def __init__(self) -> None:
        """Start empty."""
        self.count = 0
        self._sum = np.zeros(0)
        self._neg_entropy = 0.0

    def update(self, probs: ArrayLike) -> None:
        """Add a batch of probabilities (B, C), rows summing to 1."""
        p = as_probs(probs, "probs")
        if self.count == 0:
            self._sum = np.zeros(p.shape[1])
        if p.shape[1] != self._sum.shape[0]:
            raise GanforgeError(f"expected {self._sum.shape[0]} classes, got {p.shape[1]}")
        self._sum += p.sum(axis=0)
        self._neg_entropy += float(xlogy(p, p).sum())
        self.count += p.shape[0]

    def marginal(self) -> np.ndarray:
        """Marginal class distribution p(y) = mean_x p(y|x)."""
        if self.count == 0:
            raise GanforgeError("no probabilities were added")
        return self._sum / self.count

    def inception_score(self) -> float:
        """Single-split IS: exp(H(y) - mean_x H(y|x)) = exp(E_x KL(p(y|x) || p(y)))."""
        p_y = self.marginal()
        return float(np.exp(self._neg_entropy / self.count - xlogy(p_y, p_y).sum()))
