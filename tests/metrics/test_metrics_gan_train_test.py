"""GAN-train / GAN-test with a tiny logistic regression on separable synthetic data."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
from torch import nn

from ganforge.metrics import classifier_accuracy, gan_train_test

DIM = 100


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny models train faster on one thread, especially on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def separable(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Class = sign of the first coordinate, |x_0| in [0.9, ...), other coordinates N(0, 1).

    The first coordinate has about unit variance like the others, so a classifier fitted to
    shuffled labels points in a random direction of the 100-D space: about 0.5 on real data.
    """
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, DIM, generator=gen)
    y = (torch.rand(n, generator=gen) < 0.5).long()
    x[:, 0] = (2 * y - 1) * (0.9 + 0.1 * x[:, 0].abs())
    return x, y


def logistic() -> nn.Module:
    return nn.Linear(DIM, 2)


def test_classifier_accuracy_by_hand() -> None:
    model = nn.Linear(1, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[-1.0], [1.0]]))
        model.bias.zero_()
    x = torch.tensor([[-2.0], [-1.0], [1.0], [3.0]])
    assert classifier_accuracy(model, x, torch.tensor([0, 1, 1, 1])) == 0.75


def test_good_and_label_shuffled_generators() -> None:
    real_train, real_test, fake = separable(2000, 0), separable(1000, 1), separable(2000, 2)
    state = torch.get_rng_state()
    options = {"epochs": 5, "batch_size": 64, "lr": 1e-2}
    good = gan_train_test(logistic, real_train, real_test, fake, **options)
    assert torch.equal(state, torch.get_rng_state())
    assert min(good.gan_base, good.gan_train, good.gan_test) > 0.98
    perm = torch.from_numpy(np.random.default_rng(0).permutation(2000))
    shuffled = (fake[0], fake[1][perm])
    bad = gan_train_test(logistic, real_train, real_test, shuffled, **options)
    assert bad.gan_train == pytest.approx(0.5, abs=0.1)
    assert bad.gan_base == good.gan_base  # same seed, same real data
    assert bad.gan_test == pytest.approx(0.5, abs=0.1)  # real classifier vs shuffled labels


def test_numpy_float64_inputs_are_cast_to_the_model_dtype() -> None:
    x, y = separable(200, 5)
    data = (x.double().numpy(), y.numpy())
    result = gan_train_test(logistic, data, data, data, epochs=2, lr=1e-2)  # type: ignore[arg-type]
    # Same data and seed for both classifiers: the three accuracies coincide.
    assert 0.5 < result.gan_train == result.gan_test == result.gan_base <= 1.0
