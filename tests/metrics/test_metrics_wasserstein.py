"""Wasserstein distance: brute force over permutations, scipy 1-D, sliced closed form."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.stats

from ganforge.metrics import wasserstein_distance, wasserstein_method


def brute_emd(a: np.ndarray, b: np.ndarray) -> float:
    """Minimum over all matchings of the mean Euclidean cost."""
    return min(
        float(np.mean(np.linalg.norm(a - b[list(p)], axis=1)))
        for p in itertools.permutations(range(len(b)))
    )


@pytest.mark.parametrize("n, d", [(3, 2), (6, 3), (7, 2)])
def test_exact_matches_permutation_brute_force(n: int, d: int) -> None:
    rng = np.random.default_rng(n * 10 + d)
    a, b = rng.normal(size=(n, d)), rng.normal(size=(n, d)) + 0.3
    assert wasserstein_distance(a, b) == pytest.approx(brute_emd(a, b), rel=1e-9)


def test_unequal_sizes_use_a_subsample_of_the_bigger_set() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 2)), rng.normal(size=(6, 2))
    subsets = [brute_emd(a, b[list(s)]) for s in itertools.combinations(range(6), 4)]
    value = wasserstein_distance(a, b, seed=5)
    assert any(value == pytest.approx(s, rel=1e-9) for s in subsets)
    assert value == wasserstein_distance(a, b, seed=5)


@pytest.mark.parametrize("n_fake", [300, 517])
def test_one_dimensional_matches_scipy(n_fake: int) -> None:
    rng = np.random.default_rng(n_fake)
    u, v = rng.normal(size=300), rng.gamma(2.0, size=n_fake)
    expected = scipy.stats.wasserstein_distance(u, v)
    assert wasserstein_distance(u, v) == pytest.approx(expected, rel=1e-10)
    assert wasserstein_distance(u[:, None], v[:, None]) == pytest.approx(expected, rel=1e-10)
    assert wasserstein_method(300, 1) == "exact-1d"


def test_sliced_for_large_sets() -> None:
    rng = np.random.default_rng(1)
    d, n = 5, 3000
    x, y = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    assert wasserstein_method(n, d, exact_max=100) == "sliced"
    same = wasserstein_distance(x, y, exact_max=100)
    assert 0 <= same < 0.05
    # Translating by v moves each projection by theta.v: E|theta_1| for theta uniform on S^{d-1}.
    e_abs = math.gamma(d / 2) / (math.sqrt(math.pi) * math.gamma((d + 1) / 2))
    shift = np.zeros(d)
    shift[0] = 2.0
    shifted = wasserstein_distance(x, y + shift, exact_max=100, projections=512)
    assert shifted == pytest.approx(2.0 * e_abs, rel=0.1)


def test_method_choice() -> None:
    assert wasserstein_method(2000, 3) == "exact"
    assert wasserstein_method(2001, 3) == "sliced"
    assert wasserstein_method(10, 3, exact_max=5) == "sliced"


def test_high_dimensional_exact_and_identical_sets() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(5, 80)), rng.normal(size=(5, 80))
    assert wasserstein_distance(a, b) == pytest.approx(brute_emd(a, b), rel=1e-9)
    x = rng.normal(size=(50, 2))
    assert wasserstein_distance(x, x[::-1].copy()) == 0.0
