"""The training loop and manifest facts shared by the classifier scripts (train_classifiers,
train_domain_classifier, train_attribute_classifier): AdamW with a one-cycle schedule over seeded
shuffles, a held-out reading printed after every epoch, and the weights file with its record."""

from __future__ import annotations

import datetime
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.features.weights import file_sha256
from ganforge.train.precision import cpu_name


@dataclass(frozen=True)
class Recipe:
    """The optimiser's settings; `drop_last` leaves out an epoch's last incomplete batch."""

    batch: int
    lr: float = 2e-3
    weight_decay: float = 1e-4
    drop_last: bool = False

    def describe(self) -> str:
        """The recipe as the manifest states it."""
        return f"AdamW lr {self.lr:g} one-cycle, wd {self.weight_decay:g}, batch {self.batch}"


def fit_one_cycle(name: str, model: nn.Module, n: int, epochs: int, recipe: Recipe,
                  gen: torch.Generator, batch_loss: Callable[[Tensor], Tensor],
                  reading: Callable[[], str]) -> float:
    """Train `model` for `epochs` passes over `n` examples in a `gen`-seeded order;
    `batch_loss(indices)` is a batch's loss in train mode, `reading()` the held-out figures
    printed after each epoch (it sets eval mode). Returns the training seconds."""
    steps = n // recipe.batch if recipe.drop_last else -(-n // recipe.batch)
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, recipe.lr, total_steps=epochs * steps)
    start = time.time()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(n, generator=gen)
        for i in range(steps):
            loss = batch_loss(order[i * recipe.batch : (i + 1) * recipe.batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        print(f"{name} epoch {epoch + 1}/{epochs}: loss {loss.item():.4f} {reading()} "
              f"({time.time() - start:.0f} s)", flush=True)
    return round(time.time() - start, 1)


def save_weights(model: nn.Module, path: Path) -> str:
    """Write `model`'s weights as safetensors (world-readable); return the file's SHA256."""
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    path.chmod(0o644)
    return file_sha256(path)


def run_facts(epochs: int, seed: int, recipe: Recipe, seconds: float) -> dict[str, Any]:
    """How and where a classifier was trained, for its manifest entry."""
    return {"epochs": epochs, "seed": seed, "optimiser": recipe.describe(),
            "train_seconds": seconds, "threads": torch.get_num_threads(), "cpu": cpu_name(),
            "torch_version": torch.__version__, "machine": platform.platform(),
            "date": datetime.date.today().isoformat()}
