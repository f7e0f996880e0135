"""Shared input checks and chunked distance helpers for the metrics (float64 numpy throughout)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from ganforge.errors import ConfigError, GanforgeError

ArrayLike = np.ndarray | torch.Tensor

# Upper bound on the entries of one distance block: 2**22 float64 = 32 MiB.
CHUNK_ELEMENTS = 1 << 22


def to_float64(x: ArrayLike | float, name: str) -> np.ndarray:
    """A numpy or torch array as a finite float64 numpy array."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().to(torch.float64).numpy()
    arr = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise GanforgeError(f"{name} contains NaN or infinite values")
    return arr


def as_features(x: ArrayLike, name: str, min_rows: int = 1) -> np.ndarray:
    """A 2-D (N, d) float64 feature array with at least `min_rows` rows."""
    arr = to_float64(x, name)
    if arr.ndim != 2:
        raise GanforgeError(f"{name} must be a 2-D array (N, d), got shape {arr.shape}")
    if arr.shape[0] < min_rows or arr.shape[1] < 1:
        raise GanforgeError(f"{name} needs at least {min_rows} rows, got shape {arr.shape}")
    return arr


def as_pair(real: ArrayLike, fake: ArrayLike, min_rows: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Two feature arrays with the same feature dimension."""
    a, b = as_features(real, "real", min_rows), as_features(fake, "fake", min_rows)
    if a.shape[1] != b.shape[1]:
        raise GanforgeError(f"real and fake feature sizes differ: {a.shape[1]} vs {b.shape[1]}")
    return a, b


def as_probs(p: ArrayLike, name: str) -> np.ndarray:
    """A 2-D (N, C) array of class probabilities (rows summing to 1), renormalised exactly."""
    arr = as_features(p, name)
    if np.any(arr < 0):
        raise GanforgeError(f"{name} has negative entries: pass softmax probabilities, not logits")
    sums = arr.sum(axis=1, keepdims=True)
    if np.any(np.abs(sums - 1.0) > 1e-3):
        raise GanforgeError(f"{name} rows must sum to 1: apply softmax to logits first")
    return arr / sums


def check_int(value: int, name: str, minimum: int = 1) -> int:
    """An integer option that must be at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def row_chunks(n_rows: int, n_cols: int) -> Iterator[slice]:
    """Row slices so that one (rows, n_cols) block stays under CHUNK_ELEMENTS entries."""
    step = max(1, CHUNK_ELEMENTS // max(1, n_cols))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def sq_dists(a: np.ndarray, b: np.ndarray, b_sq: np.ndarray | None = None) -> np.ndarray:
    """Squared Euclidean distances (len(a), len(b)), clipped at 0 against rounding."""
    if b_sq is None:
        b_sq = np.einsum("ij,ij->i", b, b)
    a_sq = np.einsum("ij,ij->i", a, a)
    d = a_sq[:, None] + b_sq[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d, 0.0, out=d)


def kth_nn_sq_dist(x: np.ndarray, k: int) -> np.ndarray:
    """Squared distance from each row of `x` to its k-th nearest other row (self excluded)."""
    if k > x.shape[0] - 1:
        raise ConfigError(f"k={k} needs at least {k + 1} samples, got {x.shape[0]}")
    x_sq = np.einsum("ij,ij->i", x, x)
    out = np.empty(x.shape[0])
    for rows in row_chunks(x.shape[0], x.shape[0]):
        d = sq_dists(x[rows], x, x_sq)
        idx = np.arange(rows.stop - rows.start)
        d[idx, rows.start + idx] = np.inf
        out[rows] = np.partition(d, k - 1, axis=1)[:, k - 1]
    return out


def centred(*arrays: np.ndarray) -> list[np.ndarray]:
    """Arrays shifted by the first one's mean (distances unchanged, less cancellation)."""
    shift = arrays[0].mean(axis=0)
    return [a - shift for a in arrays]
