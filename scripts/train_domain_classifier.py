"""Train the horse-vs-zebra domain classifier (zebra-classifier): weights + manifest entry.

    nice python scripts/train_domain_classifier.py                   # seeded, on the CPU
    nice python scripts/train_domain_classifier.py --data ~/data/horse2zebra --epochs 30
    python scripts/train_domain_classifier.py --measure     # re-read the committed weights

Reads CycleGAN's horse2zebra folders (trainA = horses, trainB = zebras; testA/testB for the
reported accuracy) from --data, else $GANFORGE_DATA/horse2zebra. Every image is read as RGB at
its native 256x256 and brought to the classifier's 64x64 input the way the extractor does at
evaluation time (torch bilinear with antialias), after a random square crop of 75-100 % of the
side and a random horizontal flip while training. Writes
``src/ganforge/assets/classifiers/horse2zebra-classifier.safetensors`` and records its SHA256,
its accuracy on the whole test split and how it was trained in ``classifiers.json`` under
``zebra-classifier``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from classifier_fit import Recipe, fit_one_cycle, run_facts, save_weights
from torch import Tensor

from ganforge.data import load_dataset
from ganforge.features.classifier import (
    ASSETS,
    DomainClassifier,
    classifier_spec,
    load_classifier,
    read_manifest,
    record_in_manifest,
    to_input,
)

NAME = "zebra-classifier"
FILE = "horse2zebra-classifier.safetensors"
CLASSES = ("horse", "zebra")
FOLDERS = {"train": ("trainA", "trainB"), "test": ("testA", "testB")}
NATIVE = 256  # horse2zebra's image side
MIN_CROP = 0.75  # smallest random crop, as a fraction of the side
RECIPE = Recipe(batch=32)


def load_split(root: Path, split: str) -> tuple[Tensor, Tensor]:
    """uint8 RGB images (N, 3, 256, 256) of both domains and labels (N,): 0 horse, 1 zebra."""
    images, labels = [], []
    for label, folder in enumerate(FOLDERS[split]):
        data = load_dataset(f"folder:{root / folder}", image_size=NATIVE, channels=3).data
        images.append(data)
        labels.append(torch.full((len(data),), label, dtype=torch.long))
    return torch.cat(images), torch.cat(labels)


def random_crops(images: Tensor, size: int, gen: torch.Generator) -> Tensor:
    """Random square crops (75-100 % of the side), randomly mirrored, as classifier inputs."""
    side = images.shape[-1]
    out = []
    for img in images:
        crop = int(torch.randint(int(MIN_CROP * side), side + 1, (), generator=gen))
        top, left = (int(torch.randint(0, side - crop + 1, (), generator=gen)) for _ in range(2))
        x = to_input(img[None, :, top : top + crop, left : left + crop], size)  # (1, 3, S, S)
        out.append(x.flip(-1) if torch.rand((), generator=gen) < 0.5 else x)
    return torch.cat(out)  # (B, 3, size, size)


@torch.no_grad()
def readings(model: DomainClassifier, images: Tensor, labels: Tensor, size: int
             ) -> tuple[float, list[float]]:
    """Accuracy in eval mode on whole images, and each class's recall (the share of its images
    read as it: the ceiling of a translation's success into that domain)."""
    model.eval()
    pred = torch.cat([model(to_input(images[i : i + 100], size)).argmax(1)
                      for i in range(0, len(images), 100)])
    right = (pred == labels).float()
    return float(right.mean()), [float(right[labels == k].mean()) for k in range(len(CLASSES))]


def measure(root: Path) -> dict[str, Any]:
    """The manifest entry with accuracy and class recall of the committed weights (checked
    against their SHA256 on loading) read again on the test split."""
    acc, recall = readings(load_classifier(NAME), *load_split(root, "test"),
                           classifier_spec(NAME).input_size)
    return {**read_manifest()[NAME], "test_accuracy": round(acc, 4),
            "class_recall": {c: round(r, 4) for c, r in zip(CLASSES, recall)}}


def train_and_save(root: Path, epochs: int, seed: int) -> dict[str, Any]:
    """Train, save the weights and return the manifest entry."""
    (images, labels), test = load_split(root, "train"), load_split(root, "test")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    spec = classifier_spec(NAME)
    model, size = DomainClassifier(spec.channels, spec.num_classes), spec.input_size
    acc, recall = 0.0, [0.0] * len(CLASSES)

    def batch_loss(idx: Tensor) -> Tensor:
        return F.cross_entropy(model(random_crops(images[idx], size, gen)), labels[idx])

    def reading() -> str:
        nonlocal acc, recall
        acc, recall = readings(model, *test, size)
        return f"test acc {acc:.2%} (recall {' / '.join(f'{r:.1%}' for r in recall)})"

    seconds = fit_one_cycle(NAME, model, len(images), epochs, RECIPE, gen, batch_loss, reading)
    counts = {s: [int((d == k).sum()) for k in range(2)] for s, d in (("train", labels),
                                                                       ("test", test[1]))}
    return {
        "dataset": "horse2zebra", "file": FILE, "sha256": save_weights(model, ASSETS / FILE),
        "classes": CLASSES,
        "input": f"{spec.input_size}x{spec.input_size} RGB in [-1, 1], torch bilinear antialias",
        "test_accuracy": round(acc, 4), "test_n": len(test[0]),
        "class_recall": {c: round(r, 4) for c, r in zip(CLASSES, recall)},
        "data": f"trainA/trainB {counts['train']} (horse/zebra), testA/testB {counts['test']}",
        "augmentation": f"random square crop {MIN_CROP:.0%}-100% of the side, h-flip",
        **run_facts(epochs, seed, RECIPE, seconds),
    }


def main() -> None:
    """Parse flags, train, update the manifest."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("GANFORGE_DATA", "../shared/data")) / "horse2zebra"
    parser.add_argument("--data", type=Path, default=default, help="folder with trainA … testB")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--measure", action="store_true", help="train nothing: read the test "
                        "split with the committed weights and record accuracy and class recall")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ASSETS.mkdir(parents=True, exist_ok=True)
    entry = measure(args.data) if args.measure else train_and_save(args.data, args.epochs,
                                                                   args.seed)
    record_in_manifest(NAME, entry)
    print(f"{NAME}: test accuracy {entry['test_accuracy']:.2%}, sha256 {entry['sha256']}")


if __name__ == "__main__":
    main()
