"""Precision/recall, density/coverage and 1-NN accuracy: hand-built sets and brute force."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from ganforge.errors import ConfigError
from ganforge.metrics import _arrays, density_coverage, one_nn_accuracy, precision_recall


def line(*values: float) -> np.ndarray:
    return np.array(values, dtype=float)[:, None]


def test_precision_recall_on_a_line() -> None:
    real = line(0, 1, 2, 3, 4)  # k=1 radius 1 everywhere
    fake = line(0.1, 0.4, 9.0, 9.3)  # k=1 radius 0.3 everywhere
    # fake 0.1 and 0.4 lie in the real manifold; only real 0 lies within 0.3 of a fake point.
    assert precision_recall(real, fake, k=1) == pytest.approx((0.5, 0.2))


def test_precision_with_k2_radii() -> None:
    real = line(0, 1, 2, 3, 4)  # k=2 radii: 2, 1, 1, 1, 2
    fake = line(5.5, 6.5, -0.5)  # 5.5 is 1.5 from 4 (inside), 6.5 is 2.5 away (outside)
    precision, recall = precision_recall(real, fake, k=2)
    assert precision == pytest.approx(2 / 3) and recall == 1.0


def test_density_coverage_on_a_line() -> None:
    real = line(0, 1, 2, 3, 4)  # k=1 radius 1, open balls
    fake = line(0.5, 0.9, 10.0)  # 0.5 in balls of 0, 1; 0.9 in balls of 0, 1; 10 in none
    density, coverage = density_coverage(real, fake, k=1)
    assert density == pytest.approx(4 / 3) and coverage == pytest.approx(2 / 5)


def brute_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, ...]:
    drr, dff, drf = cdist(real, real), cdist(fake, fake), cdist(real, fake)
    r_rad = np.sort(drr, axis=1)[:, k]  # column 0 is the point itself
    f_rad = np.sort(dff, axis=1)[:, k]
    precision = np.mean([(drf[:, j] <= r_rad).any() for j in range(len(fake))])
    recall = np.mean([(drf[i, :] <= f_rad).any() for i in range(len(real))])
    inside = drf < r_rad[:, None]
    return precision, recall, inside.sum() / (k * len(fake)), inside.any(axis=1).mean()


def test_chunked_results_match_brute_force(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(120, 5)), rng.normal(size=(90, 5)) * 1.3 + 0.2
    monkeypatch.setattr(_arrays, "CHUNK_ELEMENTS", 500)  # forces many small blocks
    got = (*precision_recall(real, fake, k=3), *density_coverage(real, fake, k=3))
    assert got == pytest.approx(brute_prdc(real, fake, 3))


def test_precision_recall_swap_symmetry() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(80, 3)), rng.normal(size=(70, 3)) + 0.5
    p, r = precision_recall(a, b)
    assert precision_recall(b, a) == pytest.approx((r, p))


def test_k_too_large_raises() -> None:
    with pytest.raises(ConfigError, match="k=3 needs at least 4 samples, got 3"):
        precision_recall(line(0, 1, 2), line(0, 1, 2, 3), k=3)


def test_one_nn_hand_built() -> None:
    assert one_nn_accuracy(line(0, 1), line(10, 11)) == (1.0, 1.0, 1.0)
    # Interleaved points: every nearest neighbour has the other label.
    assert one_nn_accuracy(line(0, 2.1), line(1, 3)) == (0.0, 0.0, 0.0)


def test_one_nn_statistics_and_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(300, 2)), rng.normal(size=(300, 2))
    overall, _, _ = one_nn_accuracy(real, fake)
    assert overall == pytest.approx(0.5, abs=0.07)
    assert one_nn_accuracy(real, fake + 20.0) == (1.0, 1.0, 1.0)
    d = cdist(np.vstack([real, fake]), np.vstack([real, fake]))
    np.fill_diagonal(d, np.inf)
    labels = np.r_[np.zeros(300), np.ones(300)]
    correct = labels[d.argmin(axis=1)] == labels
    monkeypatch.setattr(_arrays, "CHUNK_ELEMENTS", 1000)
    expected = (correct.mean(), correct[:300].mean(), correct[300:].mean())
    assert one_nn_accuracy(real, fake) == pytest.approx(expected)
