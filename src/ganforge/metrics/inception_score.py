"""Inception Score (Salimans et al. 2016, "Improved techniques for training GANs", NeurIPS).

IS = exp(E_x KL(p(y|x) || p(y))), computed on `splits` contiguous parts of the predictions (in the
given order, as in the original OpenAI code) and reported as the mean and population std (ddof=0)
over the parts. 0 log 0 is taken as 0.
"""

from __future__ import annotations

import numpy as np
from scipy.special import rel_entr

from ganforge.errors import ConfigError
from ganforge.metrics._arrays import ArrayLike, as_probs, check_int


def _split_score(p: np.ndarray) -> float:
    """exp of the mean KL between each row and the rows' marginal."""
    marginal = p.mean(axis=0, keepdims=True)
    return float(np.exp(rel_entr(p, marginal).sum(axis=1).mean()))


def inception_score(probs: ArrayLike, splits: int = 10) -> tuple[float, float]:
    """IS (Salimans et al. 2016): mean and std over `splits` parts of softmax outputs (N, C)."""
    p = as_probs(probs, "probs")
    n = p.shape[0]
    if check_int(splits, "splits") > n:
        raise ConfigError(f"splits={splits} is larger than the number of samples ({n})")
    scores = [_split_score(p[i * n // splits : (i + 1) * n // splits]) for i in range(splits)]
    return float(np.mean(scores)), float(np.std(scores))
