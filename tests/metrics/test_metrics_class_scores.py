"""Inception Score and MODE score on hand-computable predictions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ganforge.errors import ConfigError, GanforgeError
from ganforge.metrics import inception_score, mode_score


def test_uniform_one_hot_gives_number_of_classes() -> None:
    probs = np.tile(np.eye(10), (100, 1))
    mean, std = inception_score(probs, splits=10)
    assert mean == pytest.approx(10.0, rel=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_constant_predictions_give_one() -> None:
    row = np.exp([0.3, -1.0, 2.0, 0.1])
    probs = np.tile(row / row.sum(), (50, 1))
    assert inception_score(probs, splits=5)[0] == pytest.approx(1.0, rel=1e-12)


def test_hand_computed_single_split() -> None:
    rows = [[0.9, 0.1], [0.2, 0.8]]
    marginal = [0.55, 0.45]
    kls = [sum(p * math.log(p / q) for p, q in zip(r, marginal)) for r in rows]
    assert inception_score(np.array(rows), splits=1)[0] == pytest.approx(
        math.exp(sum(kls) / 2), rel=1e-12
    )


def test_splits_are_contiguous() -> None:
    probs = np.repeat(np.eye(2), 10, axis=0)  # first half class 0, second half class 1
    assert inception_score(probs, splits=2) == pytest.approx((1.0, 0.0))
    assert inception_score(probs, splits=1)[0] == pytest.approx(2.0)


def test_inception_score_input_errors() -> None:
    with pytest.raises(GanforgeError, match="negative entries: pass softmax probabilities"):
        inception_score(np.array([[2.0, -1.0]]), splits=1)
    with pytest.raises(ConfigError, match=r"splits=4 is larger than the number of samples \(3\)"):
        inception_score(np.eye(3), splits=4)


def test_mode_score_equals_is_for_uniform_marginals() -> None:
    fake = np.tile(np.eye(4), (5, 1))
    real = np.full((7, 4), 0.25)
    assert mode_score(fake, real) == pytest.approx(inception_score(fake, splits=1)[0], rel=1e-12)
    assert mode_score(fake, real) == pytest.approx(4.0, rel=1e-12)


def test_mode_score_hand_computed() -> None:
    fake = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    real = np.array([[0.5, 0.5], [0.7, 0.3], [0.3, 0.7]])
    # E_x KL(p(y|x) || p(y)) with p(y) = (0.75, 0.25) is the entropy of p(y).
    sharp = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    mismatch = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)
    assert mode_score(fake, real) == pytest.approx(math.exp(sharp - mismatch), rel=1e-12)


def test_mode_score_penalises_collapse() -> None:
    fake = np.tile([1.0, 0.0, 0.0, 0.0], (10, 1))
    assert mode_score(fake, np.full((3, 4), 0.25)) == pytest.approx(0.25, rel=1e-12)
