"""Reconstruction losses of CycleGAN (Zhu et al. 2017, "Unpaired image-to-image translation using
cycle-consistent adversarial networks", ICCV), and StarGAN's domain classification and
reconstruction losses (at the bottom).

Each function is one direction's term, an L1 mean over every pixel and image of the batch; the
variant sums the two directions and applies the weights (lambda = 10 for the cycle terms, 0.5
lambda for the identity terms in the paper).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ganforge.errors import GanforgeError
from ganforge.losses.fp32 import fp32


def _l1_mean(a: Tensor, b: Tensor, names: str) -> Tensor:
    """Mean absolute difference of two same-shape tensors (no silent broadcasting)."""
    if a.shape != b.shape:
        raise GanforgeError(f"{names} must have the same shape, got {tuple(a.shape)} and "
                            f"{tuple(b.shape)}")
    return (fp32(a) - fp32(b)).abs().mean()  # fp32 even when the nets ran in bf16/fp16


def cycle_loss(real: Tensor, reconstructed: Tensor) -> Tensor:
    """Cycle-consistency term E[||F(G(x)) - x||_1] (Zhu et al. 2017, eq. 2), one direction:
    `reconstructed` is F(G(real)) (or G(F(real)) for the backward cycle)."""
    return _l1_mean(reconstructed, real, "real and reconstructed images")


def identity_loss(real: Tensor, same: Tensor) -> Tensor:
    """Identity-mapping term E[||G(y) - y||_1] (Zhu et al. 2017, §5.2, after Taigman et al.
    2017), one direction: `same` is the generator into real's domain applied to `real`, which
    keeps the colour composition of photos."""
    return _l1_mean(same, real, "real and identity-mapped images")


# --- StarGAN (Choi et al. 2018, "StarGAN: unified generative adversarial networks for multi-domain
# image-to-image translation", CVPR, eq. 2-4) ------------------------------------------------------


def domain_loss(logits: Tensor, target: Tensor, single: bool) -> Tensor:
    """The domain classification loss L_cls (eq. 2 on real images for D, eq. 3 on translated
    ones for G), as the official solver computes it: for binary attributes (CelebA) the binary
    cross-entropy summed over the attributes and averaged over the batch; for single-label
    domains (RaFD) the cross-entropy of `target`, (B,) class indices or (B, K) one-hot rows."""
    if single:
        index = target.argmax(1) if target.dim() == 2 else target
        return F.cross_entropy(logits, index.long())
    if logits.shape != target.shape:
        raise GanforgeError(f"attribute logits and targets must have the same shape, got "
                            f"{tuple(logits.shape)} and {tuple(target.shape)}")
    return F.binary_cross_entropy_with_logits(logits, target.float(), reduction="sum") / len(logits)


def reconstruction_loss(real: Tensor, reconstructed: Tensor) -> Tensor:
    """L_rec = E||x - G(G(x, c), c')||_1 (eq. 4): back to the original label c'."""
    return _l1_mean(reconstructed, real, "real and reconstructed images")
