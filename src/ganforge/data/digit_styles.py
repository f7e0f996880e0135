"""`mnist-style`: a quick unpaired translation task in which the digit must survive.

Domain A holds MNIST digits as they are; domain B a disjoint set of MNIST digits drawn in
another style: bold (3x3 grey dilation) and inverted (a dark digit on a light background).
The train split takes A from the first half of MNIST's training set and B from the second half,
the test split halves MNIST's test set likewise. Images are padded to 32x32 (so nets with several
stride-2 layers fit), one channel, no crop or flip (a flipped digit is another digit). Both
domains keep their labels, so a translation can be scored by a digit classifier
(`ganforge.evaluation.digits_task`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ganforge.data import idx
from ganforge.data.translation import UnpairedImages

NAME = "mnist-style"
SIZE = 32
PAD = (SIZE - 28) // 2
DOMAINS = ("mnist", "bold-inverted")


def pad_digits(images: Tensor) -> Tensor:
    """uint8 (N, 1, 28, 28) digits on black padded with black to (N, 1, 32, 32)."""
    return F.pad(images, (PAD, PAD, PAD, PAD), value=0)


def bold_inverted(images: Tensor) -> Tensor:
    """Domain B's style of uint8 digits on black: 3x3 grey dilation, then 255 - x."""
    bold = F.max_pool2d(images.float(), kernel_size=3, stride=1, padding=1)  # grey dilation
    return (255 - bold).to(torch.uint8)


def style_split(images: Tensor, labels: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Plain first half and bold-inverted second half of an MNIST split, padded to 32x32:
    (a, labels_a, b, labels_b)."""
    half = len(images) // 2
    a = pad_digits(images[:half])
    b = bold_inverted(pad_digits(images[half:]))
    return a, labels[:half], b, labels[half:]


def load_mnist_style(split: str = "train", direction: str = "AtoB") -> UnpairedImages:
    """The mnist-style task (split train: 30000 + 30000, test: 5000 + 5000); BtoA swaps the
    domains (and their labels)."""
    images, labels = idx.load_idx("mnist", split)
    a, la, b, lb = style_split(images, labels)
    domains = DOMAINS
    if direction == "BtoA":
        a, la, b, lb, domains = b, lb, a, la, (DOMAINS[1], DOMAINS[0])
    return UnpairedImages(NAME, a, b, crop=SIZE, flip=False, domains=domains, labels_a=la,
                          labels_b=lb, num_classes=idx.NUM_CLASSES)
