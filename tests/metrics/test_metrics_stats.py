"""Streaming FeatureStats / ProbStats against one-shot computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganforge.errors import GanforgeError
from ganforge.metrics import FeatureStats, ProbStats, frechet_distance, frechet_distance_from_stats


def streamed(x: np.ndarray, batch: int, **kwargs: int) -> FeatureStats:
    stats = FeatureStats(**kwargs)
    for start in range(0, len(x), batch):
        stats.update(x[start : start + batch])
    return stats


def test_moments_match_numpy() -> None:
    x = np.random.default_rng(0).normal(size=(500, 12)) * 3 + 100.0
    stats = streamed(x, 7)
    assert stats.count == 500 and stats.dim == 12
    np.testing.assert_allclose(stats.mean(), x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.cov(), np.cov(x, rowvar=False), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("batch", [1, 7, 1000])
def test_fid_is_batch_size_invariant(batch: int) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 16)) + 2.0
    y = rng.normal(size=(1500, 16)) @ rng.normal(size=(16, 16)) * 0.3 + 2.1
    a, b = streamed(x, batch), streamed(y, batch)
    value = frechet_distance_from_stats(a.mean(), a.cov(), b.mean(), b.cov())
    assert value == pytest.approx(frechet_distance(x, y), rel=1e-9)


def test_reservoir_is_batch_size_invariant_and_bounded() -> None:
    x = np.arange(3000, dtype=float).reshape(1000, 3)
    small, big = streamed(x, 7, max_samples=50, seed=3), streamed(x, 1000, max_samples=50, seed=3)
    np.testing.assert_array_equal(small.samples(), big.samples())
    kept = small.samples()
    assert kept.shape == (50, 3)
    assert len({tuple(r) for r in kept.tolist()}) == 50
    assert all(tuple(r) in {tuple(row) for row in x.tolist()} for r in kept.tolist())


def test_reservoir_keeps_everything_when_short_and_samples_uniformly() -> None:
    x = np.arange(20, dtype=float)[:, None]
    np.testing.assert_array_equal(streamed(x, 3, max_samples=30).samples(), x)
    first_half = 0
    for seed in range(200):
        kept = streamed(np.arange(100.0)[:, None], 9, max_samples=10, seed=seed).samples()
        first_half += int((kept < 50).sum())
    assert first_half / 2000 == pytest.approx(0.5, abs=0.05)


def test_torch_batches_empty_updates_and_errors() -> None:
    stats = FeatureStats(max_samples=5)
    stats.update(np.zeros((0, 2)))  # an empty first batch fixes nothing
    assert stats.count == 0 and stats.dim is None
    stats.update(torch.tensor([[1.0, 2.0], [3.0, 2.0], [5.0, 8.0]]))
    stats.update(np.zeros((0, 2)))  # ... and an empty later one changes nothing
    assert stats.count == 3 and stats.dim == 2
    np.testing.assert_allclose(stats.mean(), [3.0, 4.0], rtol=1e-15)
    np.testing.assert_allclose(stats.cov(), [[4.0, 6.0], [6.0, 12.0]], rtol=1e-15)
    np.testing.assert_array_equal(stats.samples(), [[1.0, 2.0], [3.0, 2.0], [5.0, 8.0]])
    with pytest.raises(GanforgeError, match=r"features must have shape \(B, 2\), got \(2, 3\)"):
        stats.update(np.ones((2, 3)))
    with pytest.raises(GanforgeError, match="need at least 2 feature rows, got 0"):
        FeatureStats().cov()
    kept_none = FeatureStats()  # max_samples=0: moments only
    kept_none.update(np.ones((3, 2)))
    assert kept_none.samples().shape == (0, 2)


def test_prob_stats_inception_score_by_hand() -> None:
    rows = [[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]
    marginal = [sum(r[c] for r in rows) / 3 for c in range(2)]
    mean_kl = sum(p * math.log(p / q) for r in rows for p, q in zip(r, marginal)) / 3
    stats = ProbStats()
    stats.update(np.array(rows[:2]))
    stats.update(torch.tensor(rows[2:]))
    np.testing.assert_allclose(stats.marginal(), marginal, rtol=1e-12)
    assert stats.inception_score() == pytest.approx(math.exp(mean_kl), rel=1e-12)
