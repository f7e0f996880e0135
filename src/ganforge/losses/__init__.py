"""Adversarial losses, critic regularisers and the reconstruction losses of image translation."""

from ganforge.losses.adversarial import LOSSES, AdversarialLoss, make_loss
from ganforge.losses.penalty import clip_weights, gradient_penalty
from ganforge.losses.translation import cycle_loss, identity_loss

__all__ = [
    "LOSSES",
    "AdversarialLoss",
    "clip_weights",
    "cycle_loss",
    "gradient_penalty",
    "identity_loss",
    "make_loss",
]
