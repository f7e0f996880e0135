"""Adversarial losses and critic regularisers."""

from ganforge.losses.adversarial import LOSSES, AdversarialLoss, make_loss
from ganforge.losses.penalty import clip_weights, gradient_penalty

__all__ = ["LOSSES", "AdversarialLoss", "make_loss", "clip_weights", "gradient_penalty"]
