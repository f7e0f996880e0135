"""Domain classifiers (MNIST, Fashion-MNIST, horse vs zebra): a small CNN whose penultimate layer
gives the features for FID/KID/precision/recall/… and whose softmax gives class probabilities
(IS, Mode Score, mode counting, p(zebra)).

Inception features are meaningless for 28x28 gray digits, so the practice (e.g. Binkowski et al.
2018, "Demystifying MMD GANs"; Lucic et al. 2018, "Are GANs created equal?") is a classifier
trained on the dataset itself. The weights are trained by the script named in ``CLASSIFIERS``
(``scripts/train_classifiers.py``, ``scripts/train_domain_classifier.py``) and shipped in
``ganforge/assets/classifiers`` next to ``classifiers.json``, which records each file's SHA256
and its test accuracy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.errors import GanforgeError, choices_error
from ganforge.features import Extractor

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "classifiers"
MANIFEST = ASSETS / "classifiers.json"
INPUT_SIZE = 28
FEATURE_DIM = 128
NUM_CLASSES = 10

#: The MNIST-family extractors trained by scripts/train_classifiers.py -> their dataset.
DATASETS = {"mnist-classifier": "mnist", "fashion-classifier": "fashion-mnist"}


@dataclass(frozen=True)
class ClassifierSpec:
    """What a domain classifier reads and predicts, and the script that trains it."""

    input_size: int  # side of the square input, in pixels
    channels: int  # channels read together; 1 = each image channel is read as its own image
    num_classes: int
    script: str
    multilabel: bool = False  # one sigmoid per class (CelebA attributes), not one softmax


#: Extractor name -> its network's input and classes (weights, dataset: classifiers.json).
CLASSIFIERS = {
    "mnist-classifier": ClassifierSpec(INPUT_SIZE, 1, NUM_CLASSES, "scripts/train_classifiers.py"),
    "fashion-classifier": ClassifierSpec(INPUT_SIZE, 1, NUM_CLASSES,
                                         "scripts/train_classifiers.py"),
    "zebra-classifier": ClassifierSpec(64, 3, 2, "scripts/train_domain_classifier.py"),
    "celeba-classifier": ClassifierSpec(64, 3, 5, "scripts/train_attribute_classifier.py",
                                        multilabel=True),
}


def classifier_spec(name: str) -> ClassifierSpec:
    """The table entry of classifier `name`; an unknown name lists the valid ones."""
    if name not in CLASSIFIERS:
        raise choices_error("domain classifier", name, list(CLASSIFIERS))
    return CLASSIFIERS[name]


def conv_block(c_in: int, c_out: int, kernel: int) -> nn.Sequential:
    """Same-padded convolution without bias, BatchNorm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class DomainClassifier(nn.Module):
    """A 131k-parameter CNN for (B, C, S, S) images scaled to [-1, 1] (28x28 gray digits,
    64x64 RGB photos); shape comments at 28x28."""

    def __init__(
        self, in_channels: int = 1, num_classes: int = NUM_CLASSES, feature_dim: int = FEATURE_DIM
    ) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_block(in_channels, 32, 5),  # (B, 32, 28, 28)
            nn.MaxPool2d(2),  # (B, 32, 14, 14)
            conv_block(32, 64, 3),  # (B, 64, 14, 14)
            nn.MaxPool2d(2),  # (B, 64, 7, 7)
            conv_block(64, 64, 3),  # (B, 64, 7, 7)
            nn.AdaptiveMaxPool2d(3),  # (B, 64, 3, 3): keeps the digit's layout, any input size
            nn.Flatten(),  # (B, 576)
        )
        self.fc = nn.Linear(64 * 9, feature_dim)
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(feature_dim, num_classes)

    def features_and_logits(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Penultimate features (B, feature_dim), after ReLU, and class logits (B, classes)."""
        h = F.relu(self.fc(self.body(x)))  # (B, feature_dim)
        return h, self.head(self.dropout(h))

    def forward(self, x: Tensor) -> Tensor:
        """Class logits (B, num_classes)."""
        return self.features_and_logits(x)[1]


def to_input(images: Tensor, size: int = INPUT_SIZE) -> Tensor:
    """uint8 (or [0, 255] float) (B, C, H, W) images as float in [-1, 1] at size x size."""
    x = images.float()
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True)
    return x / 127.5 - 1.0


@dataclass(frozen=True)
class ClassifierInfo:
    """One entry of classifiers.json: weights file, its SHA256 and the recorded test accuracy."""

    name: str
    dataset: str
    file: Path
    sha256: str
    test_accuracy: float

    @staticmethod
    def from_manifest(name: str, entry: dict[str, Any]) -> ClassifierInfo:
        """Build from the JSON entry of extractor `name`."""
        return ClassifierInfo(name, str(entry["dataset"]), ASSETS / str(entry["file"]),
                              str(entry["sha256"]), float(entry["test_accuracy"]))


def read_manifest() -> dict[str, Any]:
    """The parsed classifiers.json (empty when the weights have not been trained yet)."""
    if not MANIFEST.is_file():
        return {}
    return dict(json.loads(MANIFEST.read_text()))


def record_in_manifest(name: str, entry: dict[str, Any]) -> None:
    """Set classifier `name`'s entry in classifiers.json (the training scripts' last step)."""
    manifest = read_manifest()
    manifest[name] = entry
    MANIFEST.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def classifier_info(name: str) -> ClassifierInfo:
    """The manifest entry of a domain classifier, with a one-line error when it is missing."""
    entry = read_manifest().get(name)
    if entry is None:
        raise GanforgeError(f"no weights recorded for '{name}' in {MANIFEST}; "
                            f"train them with: python {classifier_spec(name).script}")
    return ClassifierInfo.from_manifest(name, entry)


def load_classifier(name: str, device: str | torch.device = "cpu") -> DomainClassifier:
    """The committed classifier `name` in eval mode, its file checked against the manifest."""
    from safetensors.torch import load_file

    from ganforge.features.weights import file_sha256

    spec, info = classifier_spec(name), classifier_info(name)
    if not info.file.is_file():
        raise GanforgeError(f"classifier weights {info.file} are missing; reinstall ganforge or "
                            f"run python {spec.script}")
    if (got := file_sha256(info.file)) != info.sha256:
        raise GanforgeError(f"{info.file} has sha256 {got[:16]}…, but classifiers.json records "
                            f"{info.sha256[:16]}…; retrain with {spec.script}")
    model = DomainClassifier(spec.channels, spec.num_classes)
    model.load_state_dict(load_file(str(info.file)), strict=True)
    return model.eval().to(device)


def joint_probs(probs: Tensor) -> Tensor:
    """Per-channel class probabilities (B, C, K) -> joint (B, K**C), class index r*K*K + g*K + b."""
    joint = probs[:, 0]
    for c in range(1, probs.shape[1]):
        joint = (joint[:, :, None] * probs[:, c, None, :]).flatten(1)  # (B, K**(c+1))
    return joint


class ClassifierExtractor(Extractor):
    """A domain classifier as a feature extractor.

    MNIST-family classifiers (spec.channels == 1) read each image channel as its own digit: a
    gray image gives 128 features and 10 class probabilities; a 3-channel image (Stacked MNIST)
    gives the three channels' features side by side (384) and the 1000 joint probabilities
    p(r) p(g) p(b), whose argmax is the class 100 r + 10 g + b of Metz et al. 2017. An RGB
    classifier (zebra-classifier) reads the three channels together (gray images are repeated
    to RGB): 128 features and its classes' probabilities (horse, zebra); a multi-label one
    (celeba-classifier) gives each attribute's own probability (sigmoid), not a softmax.
    """

    def __init__(self, name: str, device: str | torch.device = "cpu") -> None:
        self.name = name
        self.spec = classifier_spec(name)
        self.model = load_classifier(name, device)
        self.weights_sha256: str | None = classifier_info(name).sha256
        self.device = torch.device(device)
        side = f"{self.spec.input_size}x{self.spec.input_size}"
        how = ", per channel" if self.spec.channels == 1 else "; gray repeated to RGB"
        self.resize_method = f"none at {side}, else torch bilinear with antialias to {side}{how}"

    @torch.no_grad()
    def outputs(self, images: Tensor) -> tuple[np.ndarray, np.ndarray | None]:
        """Features (B, d) and class probabilities (B, K) of (B, C, H, W) images."""
        if self.spec.channels == 1:
            feats, probs = self._per_channel(images.to(self.device))
        else:
            feats, probs = self._together(images.to(self.device))
        return feats.cpu().numpy(), probs.cpu().numpy()

    def _per_channel(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Features (B, C * 128) and joint class probabilities (B, 10**C), channel by channel."""
        b, c = images.shape[:2]
        if c > 3:
            raise GanforgeError(f"{self.name} reads 1 to 3 channels, got {c}")
        x = to_input(images.reshape(b * c, 1, *images.shape[2:]), self.spec.input_size)
        feats, logits = self.model.features_and_logits(x)  # (B*C, 128), (B*C, 10)
        probs = joint_probs(logits.double().softmax(1).reshape(b, c, -1))
        return feats.reshape(b, -1), probs

    def _together(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Features (B, 128) and class probabilities (B, K) of images read in all channels."""
        want = self.spec.channels
        if images.shape[1] == 1:
            images = images.expand(-1, want, -1, -1)  # gray -> RGB
        if images.shape[1] != want:
            raise GanforgeError(f"{self.name} reads {want}-channel (or gray) images, got "
                                f"{images.shape[1]} channels")
        feats, logits = self.model.features_and_logits(to_input(images, self.spec.input_size))
        logits = logits.double()
        return feats, logits.sigmoid() if self.spec.multilabel else logits.softmax(1)
