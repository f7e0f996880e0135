"""Fréchet Inception Distance (Heusel et al. 2017, "GANs trained by a two time-scale update rule
converge to a local Nash equilibrium", NeurIPS).

FID = ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^{1/2}), the Fréchet (2-Wasserstein) distance
between Gaussians fitted to two feature sets. Everything runs in float64. The trace term uses the
symmetric form tr((S1^{1/2} S2 S1^{1/2})^{1/2}), which has the same eigenvalues as S1 S2 but is
positive semi-definite, so `eigh` gives it stably; tiny negative eigenvalues from rounding are
clipped to 0. This stays finite for singular covariances (fewer samples than dimensions, constant
features) where `scipy.linalg.sqrtm(S1 @ S2)` can return complex or non-finite values.
"""

from __future__ import annotations

import numpy as np

from ganforge.errors import GanforgeError
from ganforge.metrics._arrays import ArrayLike, as_pair, to_float64


def feature_moments(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and unbiased covariance (d, d) of a (N, d) float64 feature array."""
    return features.mean(axis=0), np.atleast_2d(np.cov(features, rowvar=False))


def psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix via eigh (negative eigenvalues -> 0)."""
    w, v = np.linalg.eigh(sigma)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr((S1 S2)^{1/2}) computed as the trace of (S1^{1/2} S2 S1^{1/2})^{1/2}."""
    root = psd_sqrt(sigma1)
    m = root @ sigma2 @ root
    eig = np.linalg.eigvalsh((m + m.T) / 2.0)
    return float(np.sqrt(np.clip(eig, 0.0, None)).sum())


def frechet_distance_from_stats(
    mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike
) -> float:
    """FID between Gaussians N(mu1, sigma1) and N(mu2, sigma2) (Heusel et al. 2017)."""
    m1, m2 = to_float64(mu1, "mu1").reshape(-1), to_float64(mu2, "mu2").reshape(-1)
    s1, s2 = to_float64(sigma1, "sigma1"), to_float64(sigma2, "sigma2")
    d = m1.shape[0]
    if m2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise GanforgeError(
            f"statistics shapes disagree: mu1 {m1.shape}, sigma1 {s1.shape}, "
            f"mu2 {m2.shape}, sigma2 {s2.shape}"
        )
    s1, s2 = (s1 + s1.T) / 2.0, (s2 + s2.T) / 2.0
    diff = m1 - m2
    value = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt_product(s1, s2)
    # The distance is a squared norm: a value below 0 can only be rounding, reported as 0.
    return max(float(value), 0.0)


def frechet_distance(real: ArrayLike, fake: ArrayLike) -> float:
    """FID between two feature arrays (N, d) (Heusel et al. 2017); needs >= 2 rows each."""
    a, b = as_pair(real, fake, min_rows=2)
    return frechet_distance_from_stats(*feature_moments(a), *feature_moments(b))
