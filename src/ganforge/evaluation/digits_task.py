"""Scoring the `mnist-style` translation task: does the digit survive, is the style changed?

Two numbers for images translated into a target domain ("mnist": plain digits, white on black;
"bold-inverted": bold, dark digits on light), given the labels of their source images:

- class preservation: accuracy of the committed MNIST classifier (`mnist-classifier`) on the
  translations mapped back to plain MNIST style by the inverse of the style: the 32 -> 28
  padding cropped, and for the bold-inverted domain the contrast inverted and the strokes eroded
  (3x3 grey erosion undoes the 3x3 dilation). The classifier reads the real test digits this way
  at 99.2 % (mnist) and 99.3 % (bold-inverted): the scores of a perfect translation (tested:
  >= 99 %). Without the erosion bold digits read at 95.6 %; a "translation" that only inverts
  the contrast keeps thin strokes, which the erosion wrecks, so it scores low here.
- domain success: the share of translations that `in_bold_inverted` puts in the target domain.
  The rule reads the background: the mean of the 2-pixel border (the padding of both domains,
  no digit reaches it) is light (> 0 in [-1, 1]) for the bold-inverted domain, dark for MNIST.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ganforge.data.digit_styles import DOMAINS, PAD, SIZE
from ganforge.errors import GanforgeError
from ganforge.features.classifier import DomainClassifier, load_classifier

CLASSIFIER = "mnist-classifier"


def _as_unit(images: Tensor) -> Tensor:
    """(N, 1, 32, 32) images as float in [-1, 1] (uint8 is rescaled; float is taken as is)."""
    if images.dim() != 4 or tuple(images.shape[1:]) != (1, SIZE, SIZE):
        raise GanforgeError(f"mnist-style images are (N, 1, {SIZE}, {SIZE}), got "
                            f"{tuple(images.shape)}")
    if images.dtype == torch.uint8:
        return images.float() / 127.5 - 1.0
    return images.float()


def _check_domain(domain: str) -> None:
    """One-line error for a domain name the task does not have."""
    if domain not in DOMAINS:
        raise GanforgeError(f"unknown mnist-style domain '{domain}'; choose from: "
                            f"{', '.join(DOMAINS)}")


def in_bold_inverted(images: Tensor) -> Tensor:
    """The domain rule: True (N,) where the mean of the 2-pixel border is light (> 0)."""
    x = _as_unit(images)[:, 0]  # (N, 32, 32)
    inner = torch.zeros(SIZE, SIZE, dtype=torch.bool)
    inner[PAD:-PAD, PAD:-PAD] = True
    return x[:, ~inner].mean(1) > 0


def to_plain_mnist(images: Tensor, domain: str) -> Tensor:
    """Images of `domain` as the classifier's uint8-scale input: (N, 1, 28, 28) in [0, 255]
    float, white digit on black (bold-inverted images inverted and eroded back)."""
    _check_domain(domain)
    x = _as_unit(images)
    if domain == DOMAINS[1]:
        x = -F.max_pool2d(x, kernel_size=3, stride=1, padding=1)  # erode the dark digit
    return (x[:, :, PAD:-PAD, PAD:-PAD] + 1.0) * 127.5  # (N, 1, 28, 28)


@torch.no_grad()
def predict_digits(images: Tensor, domain: str, classifier: DomainClassifier | None = None,
                   batch_size: int = 1000) -> Tensor:
    """The MNIST classifier's digit (N,) for each image of `domain`, read in plain style."""
    model = classifier if classifier is not None else load_classifier(CLASSIFIER)
    device = next(model.parameters()).device
    preds = []
    for chunk in to_plain_mnist(images, domain).split(batch_size):
        preds.append(model(chunk.to(device) / 127.5 - 1.0).argmax(1).cpu())
    return torch.cat(preds) if preds else torch.zeros(0, dtype=torch.int64)


def class_preservation(images: Tensor, labels: Tensor, domain: str,
                       classifier: DomainClassifier | None = None) -> float:
    """Share of translations into `domain` that the classifier reads as their source label."""
    preds = predict_digits(images, domain, classifier)
    return float((preds == labels.cpu()).float().mean())


def domain_success(images: Tensor, domain: str) -> float:
    """Share of translations that the border rule assigns to the target `domain`."""
    _check_domain(domain)
    bold = in_bold_inverted(images)
    return float((bold if domain == DOMAINS[1] else ~bold).float().mean())


@dataclass(frozen=True)
class DigitsTaskScore:
    """Both scores of a set of translations, with the sample count and the classifier used."""

    class_preservation: float
    domain_success: float
    n: int
    domain: str
    classifier: str = CLASSIFIER


def score_translations(images: Tensor, labels: Tensor, domain: str,
                       classifier: DomainClassifier | None = None) -> DigitsTaskScore:
    """Class preservation and domain success of `images` translated into `domain`."""
    if len(images) != len(labels) or len(images) == 0:
        raise GanforgeError(f"need one source label per image, got {len(images)} images and "
                            f"{len(labels)} labels")
    return DigitsTaskScore(class_preservation(images, labels, domain, classifier),
                           domain_success(images, domain), len(images), domain)
