"""KID and the unbiased polynomial MMD^2 against a brute-force double loop."""

from __future__ import annotations

import numpy as np
import pytest

from ganforge.metrics import kernel_inception_distance, polynomial_mmd2


def brute_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]

    def k(a: np.ndarray, b: np.ndarray) -> float:
        return (float(np.dot(a, b)) / d + 1.0) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_mmd2_matches_double_loop() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(7, 3)) + 0.5
    assert polynomial_mmd2(x, y) == pytest.approx(brute_mmd2(x, y), rel=1e-12)


def test_kid_single_full_subset_matches_double_loop() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(6, 4)), rng.normal(size=(6, 4)) * 2
    mean, std = kernel_inception_distance(x, y, subsets=1, subset_size=10**6)
    assert mean == pytest.approx(brute_mmd2(x, y), rel=1e-12)
    assert std == 0.0


def test_kid_near_zero_for_same_distribution_and_positive_when_shifted() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    mean, std = kernel_inception_distance(x, y, subsets=20, subset_size=200)
    assert abs(mean) < 3 * std
    shifted_mean, shifted_std = kernel_inception_distance(x, y + 0.5, subsets=20, subset_size=200)
    assert shifted_mean > 10 * max(shifted_std, abs(mean))


def test_kid_is_seeded() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(50, 3)), rng.normal(size=(60, 3))
    first = kernel_inception_distance(x, y, subsets=5, subset_size=20, seed=7)
    assert first == kernel_inception_distance(x, y, subsets=5, subset_size=20, seed=7)
    assert first != kernel_inception_distance(x, y, subsets=5, subset_size=20, seed=8)
