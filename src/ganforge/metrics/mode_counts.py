"""Mode counts over classifier labels, the Stacked MNIST protocol of Metz et al. 2017 ("Unrolled
generative adversarial networks", ICLR) and Srivastava et al. 2017 ("VEEGAN", NeurIPS): a mode
(class) is reached when at least one sample is classified into it, and `kl_to_uniform` is
KL(class histogram || uniform) in nats. For Stacked MNIST each channel is classified separately
and the 1000 classes are 100 * r + 10 * g + b (`stacked_labels`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import xlogy

from ganforge.errors import GanforgeError
from ganforge.metrics._arrays import ArrayLike, check_int, to_float64


@dataclass(frozen=True)
class ModeCount:
    """Modes reached, out of `num_classes`, the KL to uniform and the per-class counts."""

    modes: int
    num_classes: int
    kl_to_uniform: float
    counts: np.ndarray = field(compare=False, repr=False)


def _labels(x: ArrayLike, name: str) -> np.ndarray:
    """Integer labels from labels (N,) or class probabilities (N, C) (argmax)."""
    arr = to_float64(x, name)
    if arr.ndim == 2:
        return np.argmax(arr, axis=1)
    if arr.ndim != 1 or np.any(arr != np.round(arr)):
        raise GanforgeError(f"{name} must be integer labels (N,) or probabilities (N, C)")
    return arr.astype(np.int64)


def stacked_labels(probs_r: ArrayLike, probs_g: ArrayLike, probs_b: ArrayLike) -> np.ndarray:
    """Stacked MNIST class 100 * r + 10 * g + b from per-channel probabilities (or labels)."""
    r, g, b = (_labels(p, name) for p, name in zip((probs_r, probs_g, probs_b), "rgb"))
    if not r.shape == g.shape == b.shape:
        raise GanforgeError(f"channel sizes differ: {r.shape}, {g.shape}, {b.shape}")
    if any(np.any((c < 0) | (c > 9)) for c in (r, g, b)):
        raise GanforgeError("per-channel digits must lie in 0..9")
    return 100 * r + 10 * g + b


def mode_counts(labels_or_probs: ArrayLike, num_classes: int) -> ModeCount:
    """Classes reached by >= 1 sample and KL(class histogram || uniform) (Metz et al. 2017)."""
    num_classes = check_int(num_classes, "num_classes")
    arr = to_float64(labels_or_probs, "labels_or_probs")
    if arr.ndim == 2 and arr.shape[1] != num_classes:
        raise GanforgeError(f"probabilities have {arr.shape[1]} classes, expected {num_classes}")
    labels = _labels(arr, "labels_or_probs")
    if labels.size == 0 or np.any((labels < 0) | (labels >= num_classes)):
        raise GanforgeError(f"need at least one label, each in 0..{num_classes - 1}")
    counts = np.bincount(labels, minlength=num_classes)
    q = counts / labels.size
    kl = float(xlogy(q, q * num_classes).sum())
    return ModeCount(int(np.count_nonzero(counts)), num_classes, kl, counts)
