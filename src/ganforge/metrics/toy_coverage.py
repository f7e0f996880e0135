"""Mode coverage on toy Gaussian mixtures (ring8, grid25), the protocol of Srivastava et al. 2017
("VEEGAN", NeurIPS) and Lin et al. 2018 ("PacGAN", NeurIPS).

A sample is high quality when it lies within `threshold` standard deviations of its nearest mode
centre (strictly, as in the PacGAN code); it is then registered to that mode. A mode is covered
when at least `min_count` high-quality samples are registered to it. PacGAN's paper counts a mode
as lost when fewer than 20 of 2,500 samples land in it on the 25-mode grid, one fifth of the 100
expected per mode; `min_count=None` applies that rule in general, ceil(N / (5 K)) for N samples
and K modes (20 for 2,500 samples on grid25). `min_count=1` gives the "at least one sample"
count that the VEEGAN and PacGAN code log.

`reverse_kl` is KL(p_G || p_data) between the mode histograms, as PacGAN reports it: p_G is the
share of the high-quality samples registered to each mode, p_data uniform over the K equal-weight
modes, so it is sum_k p_k log(K p_k) in nats (0 for an even spread, log K when every
high-quality sample sits on one mode; NaN when there is none).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import xlogy

from ganforge.errors import GanforgeError
from ganforge.metrics._arrays import ArrayLike, as_pair, check_int, row_chunks, sq_dists, to_float64


@dataclass(frozen=True)
class ToyCoverage:
    """Covered modes (of `num_modes`), share of high-quality samples and per-mode counts."""

    modes_covered: int
    num_modes: int
    high_quality: float
    min_count: int
    counts: np.ndarray = field(compare=False, repr=False)

    @property
    def reverse_kl(self) -> float:
        """KL(mode histogram of the high-quality samples || uniform), in nats."""
        total = int(self.counts.sum())
        if total == 0:
            return math.nan
        p = self.counts / total
        return float(np.sum(xlogy(p, p * self.num_modes)))


def _mode_stds(std: float | ArrayLike, k: int) -> np.ndarray:
    """Per-mode standard deviations (K,) from a scalar or a (K,) array."""
    s = to_float64(std, "std")
    s = np.full(k, float(s)) if s.ndim == 0 else s
    if s.shape != (k,) or np.any(s <= 0):
        raise GanforgeError(f"std must be a positive scalar or {k} positive values, got {s.shape}")
    return s


def toy_coverage(
    samples: ArrayLike,
    centres: ArrayLike,
    std: float | ArrayLike,
    threshold: float = 3.0,
    min_count: int | None = None,
) -> ToyCoverage:
    """Modes covered and share of high-quality samples (VEEGAN / PacGAN protocol)."""
    x, c = as_pair(samples, centres)
    k = c.shape[0]
    stds = _mode_stds(std, k)
    if min_count is None:
        need = math.ceil(x.shape[0] / (5 * k))
    else:
        need = check_int(min_count, "min_count")
    nearest, scaled = np.empty(x.shape[0], np.int64), np.empty(x.shape[0])
    c_sq = np.einsum("ij,ij->i", c, c)
    for rows in row_chunks(x.shape[0], k):
        d = np.sqrt(sq_dists(x[rows], c, c_sq)) / stds[None, :]
        nearest[rows] = np.argmin(d, axis=1)
        scaled[rows] = d[np.arange(d.shape[0]), nearest[rows]]
    good = scaled < threshold
    counts = np.bincount(nearest[good], minlength=k)
    covered = int(np.count_nonzero(counts >= need))
    return ToyCoverage(covered, k, float(good.mean()), need, counts)
