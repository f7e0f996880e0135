"""Improved precision and recall (Kynkäänniemi et al. 2019, "Improved precision and recall metric
for assessing generative models", NeurIPS).

Each set's manifold is the union of balls around its samples whose radius is the distance to the
sample's k-th nearest neighbour in the same set (self excluded). Precision is the share of fake
samples inside the real manifold, recall the share of real samples inside the fake manifold; a
point on a ball's boundary counts as inside (<=, as in the authors' code). Distances are computed
in row blocks of bounded size.
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


def manifold_share(points: np.ndarray, centres: np.ndarray, sq_radii: np.ndarray) -> float:
    """Share of `points` within distance radius_j of at least one centre j."""
    c_sq = np.einsum("ij,ij->i", centres, centres)
    inside = 0
    for rows in row_chunks(points.shape[0], centres.shape[0]):
        d = sq_dists(points[rows], centres, c_sq)
        inside += int(np.any(d <= sq_radii[None, :], axis=1).sum())
    return inside / points.shape[0]


def precision_recall(real: ArrayLike, fake: ArrayLike, k: int = 3) -> tuple[float, float]:
    """Precision and recall (Kynkäänniemi et al. 2019) with k-NN radii manifolds."""
    a, b = as_pair(real, fake)
    a, b = centred(a, b)
    k = check_int(k, "k")
    precision = manifold_share(b, a, kth_nn_sq_dist(a, k))
    recall = manifold_share(a, b, kth_nn_sq_dist(b, k))
    return precision, recall
