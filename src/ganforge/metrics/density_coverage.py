"""Density and coverage (Naeem et al. 2020, "Reliable fidelity and diversity metrics for
generative models", ICML).

With B_i the ball around real sample i whose radius is its distance to its k-th nearest real
neighbour (self excluded): density = (1 / (k M)) sum_j #{i : fake_j in B_i} (can exceed 1), and
coverage = share of real samples whose ball contains at least one fake sample. Balls are open
(strict <), as in the authors' `prdc` package. Distances are computed in row blocks.
"""

from __future__ import annotations

import numpy as np

from ganforge.metrics._arrays import (
    ArrayLike,
    as_pair,
    centred,
    check_int,
    kth_nn_sq_dist,
    row_chunks,
    sq_dists,
)


def density_coverage(real: ArrayLike, fake: ArrayLike, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020) of fake samples against real k-NN balls."""
    a, b = as_pair(real, fake)
    a, b = centred(a, b)
    k = check_int(k, "k")
    sq_radii = kth_nn_sq_dist(a, k)
    b_sq = np.einsum("ij,ij->i", b, b)
    hits, covered = 0, 0
    for rows in row_chunks(a.shape[0], b.shape[0]):
        inside = sq_dists(a[rows], b, b_sq) < sq_radii[rows, None]
        hits += int(inside.sum())
        covered += int(inside.any(axis=1).sum())
    return hits / (k * b.shape[0]), covered / a.shape[0]
