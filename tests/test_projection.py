"""A transposed convolution on a 1x1 input computed as a matrix product (train/projection.py):
the same values and gradients as torch's own convolution, in both memory formats, and nothing
else changed."""

from __future__ import annotations

import copy
import importlib
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import ganforge
from ganforge.nets.dcgan import DCGANGenerator
from ganforge.train.projection import is_projection, use_projections


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("bias", [False, True])
def test_projection_matches_the_transposed_convolution(channels_last: bool, bias: bool) -> None:
    torch.manual_seed(0)
    layer = nn.ConvTranspose2d(12, 10, (4, 3), stride=1, padding=0, bias=bias)
    if channels_last:
        layer.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    weight = layer.weight.detach().clone().requires_grad_(True)
    b = layer.bias.detach().clone().requires_grad_(True) if bias else None
    assert use_projections(layer) == 1
    x = torch.randn(5, 12, 1, 1, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    out, ref = layer(x), F.conv_transpose2d(x_ref, weight, b)
    assert out.shape == ref.shape == (5, 10, 4, 3)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    assert out.is_contiguous(memory_format=torch.channels_last) == channels_last
    grad = torch.randn_like(ref)
    out.backward(grad)
    ref.backward(grad)
    torch.testing.assert_close(layer.weight.grad, weight.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-5, atol=1e-5)
    if bias:
        torch.testing.assert_close(layer.bias.grad, b.grad, rtol=1e-5, atol=1e-4)


def test_other_inputs_and_layers_keep_the_convolution() -> None:
    torch.manual_seed(0)
    layer = nn.ConvTranspose2d(6, 4, 4, stride=2, padding=0)
    use_projections(layer)
    x = torch.randn(2, 6, 3, 3)  # not 1x1: the convolution itself
    assert torch.equal(layer(x), F.conv_transpose2d(x, layer.weight, layer.bias, stride=2))
    padded, grouped = nn.ConvTranspose2d(6, 4, 4, 2, 1), nn.ConvTranspose2d(6, 4, 4, groups=2)
    assert not is_projection(padded) and not is_projection(grouped)
    assert not is_projection(nn.Conv2d(6, 4, 4))
    assert use_projections(nn.Sequential(padded, grouped, nn.Conv2d(6, 4, 4))) == 0
    assert use_projections(layer) == 0  # already done: not wrapped twice


def test_a_deep_copy_computes_with_its_own_weights() -> None:
    # EMA keeps a deep copy of G: both its product and its convolution must use the copy's
    torch.manual_seed(0)
    layer = nn.ConvTranspose2d(6, 4, 3)
    use_projections(layer)
    twin = copy.deepcopy(layer)
    with torch.no_grad():
        twin.weight.mul_(-2)
        twin.bias.add_(1)
    for x in (torch.randn(2, 6, 1, 1), torch.randn(2, 6, 3, 3)):
        torch.testing.assert_close(twin(x), F.conv_transpose2d(x, twin.weight, twin.bias),
                                   rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(layer(x), F.conv_transpose2d(x, layer.weight, layer.bias),
                                   rtol=1e-5, atol=1e-6)


def test_the_state_dict_is_unchanged() -> None:
    g = DCGANGenerator(16, 1, 28, 8)
    before = {k: v.clone() for k, v in g.state_dict().items()}
    assert use_projections(g) == 1  # the noise -> 7x7 layer only
    after = g.state_dict()
    assert list(after) == list(before)
    assert all(torch.equal(after[k], v) for k, v in before.items())


def test_training_uses_it_and_the_saved_generator_is_plain(tmp_path: Path, tiny: dict,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    trainer = importlib.import_module("ganforge.train.trainer")  # ganforge.train: a function
    counts: list[int] = []
    monkeypatch.setattr(trainer, "use_projections",
                        lambda net: counts.append(use_projections(net)) or counts[-1])
    run = ganforge.train("dcgan", steps=2, out=tmp_path / "r", quiet=True, **tiny)
    assert counts == [1]  # G's noise -> 7x7 layer, in the training process
    first = run.generator.net[0]  # read back from the run folder: a plain ConvTranspose2d
    assert isinstance(first, nn.ConvTranspose2d) and "forward" not in vars(first)
