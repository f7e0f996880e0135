"""Mode counts (Stacked MNIST protocol) and toy-mixture coverage on hand-built samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganforge.errors import GanforgeError
from ganforge.metrics import mode_counts, stacked_labels, toy_coverage


def test_mode_counts_by_hand() -> None:
    result = mode_counts(np.array([0, 0, 1, 3]), num_classes=5)
    # histogram (0.5, 0.25, 0, 0.25, 0) against uniform 0.2
    kl = 0.5 * math.log(0.5 / 0.2) + 2 * 0.25 * math.log(0.25 / 0.2)
    assert (result.modes, result.num_classes) == (3, 5)
    assert result.kl_to_uniform == pytest.approx(kl, rel=1e-12)
    np.testing.assert_array_equal(result.counts, [2, 1, 0, 1, 0])


def test_mode_counts_uniform_and_from_probabilities() -> None:
    uniform = mode_counts(torch.arange(1000) % 10, 10)
    assert uniform.modes == 10 and uniform.kl_to_uniform == pytest.approx(0.0, abs=1e-12)
    probs = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert mode_counts(probs, 2).counts.tolist() == [1, 2]


def test_stacked_labels_and_thousand_modes() -> None:
    eye = np.eye(10)
    r, g, b = eye[[1, 0, 9]], eye[[2, 0, 9]], eye[[3, 7, 9]]
    labels = stacked_labels(r, g, b)
    np.testing.assert_array_equal(labels, [123, 7, 999])
    result = mode_counts(labels, 1000)
    assert result.modes == 3
    assert result.kl_to_uniform == pytest.approx(math.log(1000 / 3), rel=1e-12)


def test_mode_count_errors() -> None:
    with pytest.raises(GanforgeError, match=r"each in 0\.\.4"):
        mode_counts(np.array([0, 5]), 5)
    with pytest.raises(GanforgeError, match="probabilities have 4 classes, expected 5"):
        mode_counts(np.ones((3, 4)) / 4, 5)


def test_toy_coverage_by_hand() -> None:
    centres = np.array([[0.0, 0.0], [10.0, 0.0]])
    rng = np.random.default_rng(0)
    near0 = rng.uniform(-0.5, 0.5, size=(25, 2))
    near1 = np.array([[10.5, 0.0], [9.0, 1.0], [10.0, -2.5]])
    far = np.array([[5.0, 5.0], [0.0, 3.5]])  # 3.5 sd from the first centre: not high quality
    samples = np.vstack([near0, near1, far])
    result = toy_coverage(samples, centres, std=1.0)
    assert result.min_count == 3  # ceil(30 / (5 * 2))
    assert (result.modes_covered, result.num_modes) == (2, 2)
    assert result.high_quality == pytest.approx(28 / 30)
    np.testing.assert_array_equal(result.counts, [25, 3])
    assert toy_coverage(samples, centres, std=1.0, min_count=4).modes_covered == 1
    # A tighter second mode: (9, 1) is sqrt(2) / 0.5 = 2.83 sd away (kept), (10, -2.5) 5 sd.
    per_mode = toy_coverage(samples, centres, std=np.array([1.0, 0.5]), min_count=1)
    np.testing.assert_array_equal(per_mode.counts, [25, 2])
    assert per_mode.high_quality == pytest.approx(27 / 30)


def test_toy_coverage_pacgan_default_threshold() -> None:
    grid = np.stack(np.meshgrid(np.arange(-4, 5, 2), np.arange(-4, 5, 2)), -1).reshape(-1, 2)
    samples = np.repeat(grid.astype(float), 100, axis=0)
    assert toy_coverage(samples, grid, std=0.05).min_count == 20
    missing = samples[100 * 19 :]  # drops modes 0..18 entirely: 6 modes left
    assert toy_coverage(missing[:600], grid, std=0.05, min_count=20).modes_covered == 6


def test_toy_coverage_reverse_kl_by_hand() -> None:
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    # 3 high-quality samples on mode 0, 1 on mode 1, none on 2 and 3; one far sample is ignored
    samples = np.array([[0.1, 0.0], [0.0, 0.1], [0.0, 0.0], [10.0, 0.0], [5.0, 5.0]])
    got = toy_coverage(samples, centres, std=0.1, min_count=1)
    want = 0.75 * math.log(0.75 * 4) + 0.25 * math.log(0.25 * 4)
    assert got.reverse_kl == pytest.approx(want, rel=1e-12)
    assert toy_coverage(samples[:3], centres, std=0.1).reverse_kl == pytest.approx(math.log(4))
    even = toy_coverage(np.repeat(centres, 5, axis=0), centres, std=0.1)
    assert even.reverse_kl == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(toy_coverage(samples[4:], centres, std=0.1).reverse_kl)
