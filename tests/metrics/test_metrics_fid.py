"""FID against a scipy.linalg.sqrtm reference and Gaussian closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from ganforge.errors import GanforgeError
from ganforge.metrics import frechet_distance, frechet_distance_from_stats


def sqrtm_fid(x: np.ndarray, y: np.ndarray) -> float:
    """The classic pytorch-fid computation: sqrtm of the covariance product, real part."""
    mu1, mu2 = x.mean(axis=0), y.mean(axis=0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_matches_sqrtm_reference_on_random_data() -> None:
    rng = np.random.default_rng(0)
    d = 16
    mix1, mix2 = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    x = rng.normal(size=(600, d)) @ mix1 + 0.3
    y = rng.normal(size=(500, d)) @ mix2 - 0.2
    assert frechet_distance(x, y) == pytest.approx(sqrtm_fid(x, y), rel=1e-6)


def test_torch_input_same_as_numpy() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(100, 5)), rng.normal(size=(80, 5)) + 1
    value = frechet_distance(torch.from_numpy(x), torch.from_numpy(y))
    assert value == pytest.approx(sqrtm_fid(x, y), rel=1e-6)


def population_fid(mu: np.ndarray, s: float) -> float:
    """FID between N(0, I) and N(mu, s^2 I): ||mu||^2 + d (1 - s)^2."""
    return float(mu @ mu + mu.size * (1 + s**2 - 2 * s))


def test_gaussian_closed_form_from_exact_statistics() -> None:
    d, s = 6, 1.7
    mu = np.linspace(-1, 2, d)
    value = frechet_distance_from_stats(np.zeros(d), np.eye(d), mu, s**2 * np.eye(d))
    assert value == pytest.approx(population_fid(mu, s), rel=1e-12)


def test_gaussian_closed_form_from_large_samples() -> None:
    rng = np.random.default_rng(2)
    mu, s, n = np.array([1.0, 0.5, 0.0, -1.0]), 1.5, 40000
    x = rng.normal(size=(n, 4))
    y = mu + s * rng.normal(size=(n, 4))
    assert frechet_distance(x, y) == pytest.approx(population_fid(mu, s), rel=0.03)


def test_singular_closed_form() -> None:
    # sqrt(diag(1, 0) diag(4, 0)) = diag(2, 0): FID = 1 + 4 - 2 * 2 + |mu diff|^2 = 1 + 9.
    s1, s2 = np.diag([1.0, 0.0]), np.diag([4.0, 0.0])
    value = frechet_distance_from_stats([0.0, 0.0], s1, [0.0, 3.0], s2)
    assert value == pytest.approx(10.0, rel=1e-12)


def test_identical_sets_give_zero() -> None:
    x = np.random.default_rng(3).normal(size=(200, 64))
    assert abs(frechet_distance(x, x)) < 1e-6


def low_rank_fid(x: np.ndarray, y: np.ndarray) -> float:
    """FID without any square root of a singular matrix: with A, B the centred samples,
    S1 S2 = A'A B'B / k has the nonzero eigenvalues of (AB')(AB')' / k, k = (n1 - 1)(n2 - 1),
    so tr (S1 S2)^{1/2} is the sum of the singular values of AB' over sqrt(k)."""
    a, b = x - x.mean(axis=0), y - y.mean(axis=0)
    k1, k2 = len(x) - 1, len(y) - 1
    trace_sqrt = np.linalg.svd(a @ b.T, compute_uv=False).sum() / np.sqrt(k1 * k2)
    diff = x.mean(axis=0) - y.mean(axis=0)
    return float(diff @ diff + (a**2).sum() / k1 + (b**2).sum() / k2 - 2 * trace_sqrt)


def test_singular_covariances_match_a_computation_without_sqrtm() -> None:
    rng = np.random.default_rng(4)
    few = rng.normal(size=(10, 50)), rng.normal(size=(12, 50))  # rank 9 and 11 in 50-D
    const = rng.normal(size=(100, 8))
    const[:, 3] = 5.0
    other = rng.normal(size=(100, 8))
    other[:, [0, 3]] = 1.0
    for x, y in (few, (const, other)):
        value = frechet_distance(x, y)
        assert np.isfinite(value) and value == pytest.approx(low_rank_fid(x, y), rel=1e-6)
    # Constant columns, one matrix singular: the nonsingular block by scipy's sqrtm.
    keep = [1, 2, 4, 5, 6, 7]  # the columns with variance in both sets
    s1, s2 = np.cov(const, rowvar=False), np.cov(other, rowvar=False)
    block = scipy.linalg.sqrtm(s1[np.ix_(keep, keep)] @ s2[np.ix_(keep, keep)]).real
    diff = const.mean(axis=0) - other.mean(axis=0)
    want = diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(block)
    assert frechet_distance(const, other) == pytest.approx(want, rel=1e-8)


def test_bad_shapes_raise() -> None:
    with pytest.raises(GanforgeError, match="feature sizes differ: 3 vs 4"):
        frechet_distance(np.zeros((10, 3)), np.zeros((10, 4)))
    with pytest.raises(GanforgeError, match=r"real needs at least 2 rows, got shape \(1, 3\)"):
        frechet_distance(np.zeros((1, 3)), np.zeros((10, 3)))
    with pytest.raises(GanforgeError, match=r"shapes disagree: mu1 \(3,\), sigma1 \(2, 2\)"):
        frechet_distance_from_stats(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3))
