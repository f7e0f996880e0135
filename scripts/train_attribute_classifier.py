"""Train the CelebA attribute classifier (celeba-classifier): weights + manifest entry.

    nice python scripts/train_attribute_classifier.py                # seeded, on the CPU
    nice python scripts/train_attribute_classifier.py --data-dir ~/data --epochs 6

Reads CelebA (the official layout or the shared 10k subset, found like `--data celeba`) at 64x64,
the central square as StarGAN crops it, and trains the small `DomainClassifier` with one sigmoid
per attribute (binary cross-entropy) on the training split (the first 90 % of the attribute
file's rows), with random horizontal flips and shifts of up to 4 px. Its per-attribute accuracy
on the held-out split (the last 10 %) is the ceiling of StarGAN's translation success measured
with it. Writes ``src/ganforge/assets/classifiers/celeba-attributes-classifier.safetensors`` and
records its SHA256, the attributes, the accuracies and how it was trained in
``classifiers.json`` under ``celeba-classifier``.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ganforge.data.celeba import load_celeba
from ganforge.data.multidomain import MultiDomainImages
from ganforge.features.classifier import (
    ASSETS,
    DomainClassifier,
    classifier_spec,
    record_in_manifest,
    to_input,
)
from ganforge.features.weights import file_sha256

NAME = "celeba-classifier"
FILE = "celeba-attributes-classifier.safetensors"
ATTRS = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young")
BATCH, LR, WEIGHT_DECAY, SHIFT = 64, 2e-3, 1e-4, 4


def select(data: MultiDomainImages) -> tuple[Tensor, Tensor]:
    """uint8 faces (N, 3, 64, 64) and the chosen attributes (N, 5) as float {0, 1}."""
    assert data.attrs is not None
    cols = [data.attributes.index(a) for a in ATTRS]
    return data.images, data.attrs[:, cols].float()


def augment(images: Tensor, gen: torch.Generator) -> Tensor:
    """Classifier inputs: random flips and a random shift (one per batch, edge-padded)."""
    x = to_input(images, classifier_spec(NAME).input_size)  # (B, 3, 64, 64)
    flip = torch.rand(len(x), generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    dy, dx = (int(v) for v in torch.randint(-SHIFT, SHIFT + 1, (2,), generator=gen))
    padded = F.pad(x, (SHIFT, SHIFT, SHIFT, SHIFT), mode="replicate")
    h, w = x.shape[-2:]
    return padded[..., SHIFT + dy : SHIFT + dy + h, SHIFT + dx : SHIFT + dx + w]


@torch.no_grad()
def accuracies(model: DomainClassifier, images: Tensor, attrs: Tensor) -> list[float]:
    """Per-attribute accuracy in eval mode on whole faces (logit > 0 reads as 1)."""
    model.eval()
    size = classifier_spec(NAME).input_size
    logits = torch.cat([model(to_input(images[i : i + 200], size))
                        for i in range(0, len(images), 200)])
    return [float(v) for v in ((logits > 0).float() == attrs).float().mean(0)]


def fit(model: DomainClassifier, train: tuple[Tensor, Tensor], test: tuple[Tensor, Tensor],
        epochs: int, gen: torch.Generator) -> list[float]:
    """AdamW with a one-cycle schedule; prints held-out accuracies per epoch."""
    images, attrs = train
    steps = len(images) // BATCH
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, LR, total_steps=epochs * steps)
    start, acc = time.time(), [0.0] * len(ATTRS)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(images), generator=gen)
        for i in range(steps):
            idx = order[i * BATCH : (i + 1) * BATCH]
            loss = F.binary_cross_entropy_with_logits(model(augment(images[idx], gen)), attrs[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        acc = accuracies(model, *test)
        shown = " ".join(f"{a} {v:.1%}" for a, v in zip(ATTRS, acc))
        print(f"{NAME} epoch {epoch + 1}/{epochs}: loss {loss.item():.4f} held-out {shown} "
              f"({time.time() - start:.0f} s)", flush=True)
    return acc


def train_and_save(data_dir: str | None, epochs: int, seed: int, threads: int) -> dict[str, Any]:
    """Train, save the weights and return the manifest entry."""
    from safetensors.torch import save_file

    size = classifier_spec(NAME).input_size
    train_data, test_data = (load_celeba(s, data_dir, size) for s in ("train", "test"))
    train, test = select(train_data), select(test_data)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    spec = classifier_spec(NAME)
    model = DomainClassifier(spec.channels, spec.num_classes)
    start = time.time()
    acc = fit(model, train, test, epochs, gen)
    seconds = round(time.time() - start, 1)
    path = ASSETS / FILE
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    path.chmod(0o644)
    return {
        "dataset": "celeba", "file": FILE, "sha256": file_sha256(path), "classes": list(ATTRS),
        "multilabel": True, "input": f"{size}x{size} RGB in [-1, 1] (central square of the face)",
        "test_accuracy": round(sum(acc) / len(acc), 4), "test_n": len(test[0]),
        "attribute_accuracy": {a: round(v, 4) for a, v in zip(ATTRS, acc)},
        "attribute_prevalence_test": {a: round(float(v), 4)
                                      for a, v in zip(ATTRS, test[1].mean(0))},
        "data": f"{train_data.split_rule}; {test_data.split_rule}",
        "epochs": epochs, "seed": seed, "optimiser": f"AdamW lr {LR} one-cycle, wd "
        f"{WEIGHT_DECAY}, batch {BATCH}", "augmentation": f"h-flip, shift +-{SHIFT} px",
        "train_seconds": seconds, "threads": threads, "torch_version": torch.__version__,
        "machine": platform.platform(), "date": datetime.date.today().isoformat(),
    }


def main() -> None:
    """Parse flags, train, update the manifest."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder holding celeba (else "
                        "$GANFORGE_DATA, the cache)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ASSETS.mkdir(parents=True, exist_ok=True)
    entry = train_and_save(args.data_dir, args.epochs, args.seed, args.threads)
    record_in_manifest(NAME, entry)
    print(f"{NAME}: held-out accuracy {entry['attribute_accuracy']}, sha256 {entry['sha256']}")


if __name__ == "__main__":
    main()
