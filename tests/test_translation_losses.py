"""CycleGAN's cycle and identity losses on hand-made tensors (Zhu et al. 2017)."""

from __future__ import annotations

import pytest
import torch

from ganforge.errors import GanforgeError
from ganforge.losses import cycle_loss, identity_loss


def test_cycle_loss_is_the_l1_mean_by_hand() -> None:
    real = torch.tensor([[[[0.0, 1.0], [-1.0, 0.5]]]])  # (1, 1, 2, 2)
    rec = torch.tensor([[[[0.5, 1.0], [0.0, -0.5]]]])
    # |0.5| + 0 + |1| + |-1| = 2.5 over 4 pixels
    assert cycle_loss(real, rec).item() == pytest.approx(0.625)


def test_identity_loss_averages_over_images_and_channels() -> None:
    real = torch.zeros(2, 3, 1, 1)
    same = torch.zeros(2, 3, 1, 1)
    same[0, 0] = 0.6  # one pixel off by 0.6 and one by -1.2: (0.6 + 1.2) / 6 elements
    same[1, 2] = -1.2
    assert identity_loss(real, same).item() == pytest.approx(0.3)
    assert identity_loss(real, real).item() == 0.0


def test_losses_are_symmetric_differentiable_and_refuse_broadcasting() -> None:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 3, 4, 4, generator=g), torch.randn(2, 3, 4, 4, generator=g)
    b.requires_grad_(True)
    loss = cycle_loss(a, b)
    assert loss.item() == pytest.approx(identity_loss(b.detach(), a).item())
    loss.backward()
    assert b.grad is not None
    torch.testing.assert_close(b.grad, torch.sign(b.detach() - a) / a.numel())
    with pytest.raises(GanforgeError, match="same shape"):
        cycle_loss(a, a[:1])
