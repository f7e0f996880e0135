"""Feature matching (Salimans et al. 2016, §3.1): G's objective becomes
||E_x f(x) - E_z f(G(z))||_2^2, f an intermediate layer of D (here D's last hidden layer), so G
matches the statistics of the real data instead of maximising D's output."""

from __future__ import annotations

from torch import Tensor

from ganforge.losses.fp32 import fp32


def feature_matching_loss(real_feats: Tensor, fake_feats: Tensor) -> Tensor:
    """Squared L2 distance between the batch means of D's features (B, F) for real and fake."""
    diff = fp32(real_feats.flatten(1)).mean(0) - fp32(fake_feats.flatten(1)).mean(0)
    return (diff**2).sum()
