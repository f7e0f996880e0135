"""The one structure a training step receives."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch
from torch import Tensor


@dataclass
class Batch:
    """A minibatch on the training device.

    `x` holds real images normalised to [-1, 1] (B, C, H, W) or points (B, D). Conditional and
    translation variants read the optional fields: `y` class labels (B,), `attrs` binary
    attributes (B, A) in {0, 1}, and `a` / `b` the images of domains A and B (paired for Pix2Pix,
    unpaired for CycleGAN).
    """

    x: Tensor
    y: Tensor | None = None
    attrs: Tensor | None = None
    a: Tensor | None = None
    b: Tensor | None = None

    @property
    def size(self) -> int:
        """Number of examples in the batch."""
        return int(self.x.shape[0])

    def to(self, device: torch.device | str) -> Batch:
        """Copy every present field to `device`."""
        moved = {
            f.name: getattr(self, f.name).to(device, non_blocking=True)
            for f in fields(self)
            if getattr(self, f.name) is not None
        }
        return replace(self, **moved)
