"""GAN-train / GAN-test (Shmelkov et al. 2018, "How good is my GAN?", ECCV) for class-conditional
generators, on any labelled samples (images or features).

- GAN-train: a classifier trained on generated samples, accuracy on the real test set (diversity
  and fidelity together: low when the generator misses or blurs classes).
- GAN-test: a classifier trained on the real training set, accuracy on generated samples
  (fidelity: high when generated samples look like their class).
- GAN-base: the same real-trained classifier on the real test set (the reference).

Both classifiers come from `make_classifier()` (a module mapping a batch of inputs to class
logits), built and trained with the same seed: Adam, cross-entropy, shuffled mini-batches. The
global CPU torch RNG state is restored afterwards. Inputs are moved to the device and dtype of
the model's first parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.errors import GanforgeError
from ganforge.metrics._arrays import check_int


@dataclass(frozen=True)
class GanTrainTest:
    """Accuracies: trained on fake / tested on real, trained on real / tested on fake and real."""

    gan_train: float
    gan_test: float
    gan_base: float


def _checked(data: tuple[Tensor, Tensor], name: str) -> tuple[Tensor, Tensor]:
    """Inputs as a float tensor and labels as a long tensor of equal, non-zero length."""
    x, y = torch.as_tensor(data[0]), torch.as_tensor(data[1])
    if y.ndim != 1 or x.shape[0] != y.shape[0] or y.shape[0] == 0:
        raise GanforgeError(f"{name} must be (inputs (N, ...), labels (N,)) with N >= 1")
    return (x if x.is_floating_point() else x.float()), y.long()


def _placement(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    """Device and dtype of the model's first parameter (CPU float32 if it has none)."""
    first = next(model.parameters(), None)
    if first is None:
        return torch.device("cpu"), torch.float32
    return first.device, first.dtype


@torch.no_grad()
def classifier_accuracy(model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 512) -> float:
    """Share of samples whose argmax logit equals the label (evaluation mode, in batches)."""
    x, y = _checked((x, y), "data")
    was_training, (device, dtype) = model.training, _placement(model)
    model.eval()
    correct = 0
    for start in range(0, x.shape[0], batch_size):
        logits = model(x[start : start + batch_size].to(device, dtype))
        correct += int((logits.argmax(dim=1).cpu() == y[start : start + batch_size]).sum())
    model.train(was_training)
    return correct / x.shape[0]


def fit_classifier(
    make_classifier: Callable[[], nn.Module],
    data: tuple[Tensor, Tensor],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
) -> nn.Module:
    """Build a classifier with `seed` and train it on (x, y) with Adam and cross-entropy."""
    x, y = data
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = make_classifier()
        (device, dtype), order_rng = _placement(model), torch.Generator().manual_seed(seed)
        optimiser = torch.optim.Adam(model.parameters(), lr=lr)
        model.train()
        for _ in range(epochs):
            order = torch.randperm(x.shape[0], generator=order_rng)
            for start in range(0, x.shape[0], batch_size):
                idx = order[start : start + batch_size]
                loss = F.cross_entropy(model(x[idx].to(device, dtype)), y[idx].to(device))
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
    model.eval()
    return model


def gan_train_test(
    make_classifier: Callable[[], nn.Module],
    real_train: tuple[Tensor, Tensor],
    real_test: tuple[Tensor, Tensor],
    fake: tuple[Tensor, Tensor],
    *,
    epochs: int = 5,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
) -> GanTrainTest:
    """GAN-train, GAN-test and GAN-base accuracies (Shmelkov et al. 2018)."""
    check_int(epochs, "epochs")
    check_int(batch_size, "batch_size")
    real_train, real_test = _checked(real_train, "real_train"), _checked(real_test, "real_test")
    fake = _checked(fake, "fake")
    fit = partial(fit_classifier, make_classifier, epochs=epochs, batch_size=batch_size)
    on_fake, on_real = fit(fake, lr=lr, seed=seed), fit(real_train, lr=lr, seed=seed)
    return GanTrainTest(
        gan_train=classifier_accuracy(on_fake, *real_test),
        gan_test=classifier_accuracy(on_real, *fake),
        gan_base=classifier_accuracy(on_real, *real_test),
    )
