"""Earth mover's (Wasserstein-1) distance between two sample sets, Euclidean ground cost
(Rubner et al. 2000, "The earth mover's distance as a metric for image retrieval", IJCV; sliced
variant: Rabin et al. 2011, "Wasserstein barycenter and its application to texture mixing";
Bonneel et al. 2015, "Sliced and Radon Wasserstein barycenters of measures").

Which estimate is computed is given by `wasserstein_method(n, dim, exact_max=...)`, with n the
smaller of the two sample counts:
- "exact-1d": 1-D data (shape (N,) or (N, 1)): the exact W1 between the two empirical
  distributions, the integral of |F_real - F_fake| (any sizes, no subsampling; this equals
  `scipy.stats.wasserstein_distance`).
- "exact": n <= exact_max: the mean cost of the optimal one-to-one assignment
  (`scipy.optimize.linear_sum_assignment`), which is the exact W1 between equal-size empirical
  distributions. When the sizes differ, the bigger set is first subsampled without replacement
  to n points with numpy Generator(seed).
- "sliced": otherwise: the sliced W1, the average over `projections` random unit directions
  (Generator(seed)) of the exact 1-D W1 between the projected sets (all points, any sizes). It is
  a different, smaller quantity than W1 (about W1 / sqrt(d) for shifts), so never compare an
  "exact" value with a "sliced" one.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from ganforge.errors import GanforgeError
from ganforge.metrics._arrays import ArrayLike, centred, check_int, sq_dists, to_float64


def wasserstein_method(n: int, dim: int = 2, *, exact_max: int = 2000) -> str:
    """Which estimate `wasserstein_distance` uses: "exact-1d", "exact" or "sliced"."""
    if dim == 1:
        return "exact-1d"
    return "exact" if n <= exact_max else "sliced"


def w1_1d(u: np.ndarray, v: np.ndarray) -> float:
    """Exact W1 between two 1-D empirical distributions: integral of |F_u - F_v|."""
    u, v = np.sort(u), np.sort(v)
    if u.shape == v.shape:
        return float(np.abs(u - v).mean())
    grid = np.sort(np.concatenate([u, v]))
    cdf_u = np.searchsorted(u, grid[:-1], side="right") / u.size
    cdf_v = np.searchsorted(v, grid[:-1], side="right") / v.size
    return float(np.sum(np.abs(cdf_u - cdf_v) * np.diff(grid)))


def _as_points(x: ArrayLike, name: str) -> np.ndarray:
    """Samples as a 2-D (N, d) array; 1-D input becomes (N, 1)."""
    arr = to_float64(x, name)
    arr = arr[:, None] if arr.ndim == 1 else arr
    if arr.ndim != 2 or arr.shape[0] < 1:
        raise GanforgeError(f"{name} must have shape (N,) or (N, d) with N >= 1, got {arr.shape}")
    return arr


def _exact(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> float:
    """Mean optimal-assignment cost, subsampling the bigger set to the smaller size."""
    n = min(a.shape[0], b.shape[0])
    if a.shape[0] > n:
        a = a[rng.choice(a.shape[0], n, replace=False)]
    if b.shape[0] > n:
        b = b[rng.choice(b.shape[0], n, replace=False)]
    # cdist is exact (identical points cost 0) and fast in low dimension; BLAS beyond.
    cost = cdist(a, b) if a.shape[1] <= 64 else np.sqrt(sq_dists(*centred(a, b)))
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def _sliced(a: np.ndarray, b: np.ndarray, projections: int, rng: np.random.Generator) -> float:
    """Mean exact 1-D W1 over random unit projections."""
    dirs = rng.standard_normal((a.shape[1], projections))
    dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
    total = 0.0
    for start in range(0, projections, 32):
        block = dirs[:, start : start + 32]
        pa, pb = a @ block, b @ block
        total += sum(w1_1d(pa[:, j], pb[:, j]) for j in range(block.shape[1]))
    return total / projections


def wasserstein_distance(
    real: ArrayLike,
    fake: ArrayLike,
    *,
    exact_max: int = 2000,
    projections: int = 256,
    seed: int = 0,
) -> float:
    """W1 between sample sets: exact (1-D or assignment) or sliced; see `wasserstein_method`."""
    a, b = _as_points(real, "real"), _as_points(fake, "fake")
    if a.shape[1] != b.shape[1]:
        raise GanforgeError(f"real and fake dimensions differ: {a.shape[1]} vs {b.shape[1]}")
    check_int(projections, "projections")
    check_int(exact_max, "exact_max", minimum=0)
    method = wasserstein_method(min(a.shape[0], b.shape[0]), a.shape[1], exact_max=exact_max)
    rng = np.random.default_rng(seed)
    if method == "exact-1d":
        return w1_1d(a[:, 0], b[:, 0])
    if method == "exact":
        return _exact(a, b, rng)
    return _sliced(a, b, projections, rng)
