"""MODE score (Che et al. 2017, "Mode regularized generative adversarial networks", ICLR).

MS = exp(E_x KL(p(y|x) || p(y)) - KL(p(y) || p*(y))), with p(y) the marginal of the generated
samples and p*(y) the marginal of the real ones: the Inception Score penalised for a label
distribution that differs from the data's. This is the form used by Xu et al. 2018 ("An empirical
study on evaluation metrics of GANs"). Read literally with p*(y) inside the first KL, the formula
reduces algebraically to the one-split Inception Score (the p* terms cancel), so that form is not
used. Natural logarithms; a class the real data never shows but the generator does gives 0.
"""

from __future__ import annotations

import numpy as np
from scipy.special import rel_entr

from ganforge.errors import GanforgeError
from ganforge.metrics._arrays import ArrayLike, as_probs


def mode_score(fake_probs: ArrayLike, real_probs: ArrayLike) -> float:
    """MODE score (Che et al. 2017) of generated class probabilities against real ones."""
    p = as_probs(fake_probs, "fake_probs")
    q = as_probs(real_probs, "real_probs")
    if p.shape[1] != q.shape[1]:
        raise GanforgeError(f"class counts differ: fake {p.shape[1]} vs real {q.shape[1]}")
    p_y, p_star = p.mean(axis=0), q.mean(axis=0)
    sharpness = rel_entr(p, p_y[None, :]).sum(axis=1).mean()
    mismatch = rel_entr(p_y, p_star).sum()
    return float(np.exp(sharpness - mismatch))
