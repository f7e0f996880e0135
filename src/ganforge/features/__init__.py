"""Feature extractors for sample-quality metrics, and their registry.

An extractor maps a batch of images (uint8, or float in [0, 255]; (B, C, H, W)) to features
(B, d) and, when it is a classifier, class probabilities (B, K). It carries what every metric
result must record: its ``name``, its weights' ``weights_sha256`` and its ``resize_method``.

    extractor = make_extractor("mnist-classifier")
    feats, probs = extractor.outputs(images)

Which extractor suits which data is :func:`default_extractor`'s business, never the metric's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ganforge.errors import GanforgeError
from ganforge.registry import Registry


class Extractor(ABC):
    """Images -> features (and class probabilities); names its weights and resize method."""

    name: str
    weights_sha256: str | None
    resize_method: str
    has_probs: bool = True

    @abstractmethod
    def outputs(self, images: Tensor) -> tuple[np.ndarray, np.ndarray | None]:
        """Features (B, d) and class probabilities (B, K), or None when it has no classes."""

    def features(self, images: Tensor) -> np.ndarray:
        """Features (B, d) of a batch."""
        return self.outputs(images)[0]

    def probs(self, images: Tensor) -> np.ndarray:
        """Class probabilities (B, K) of a batch; an error for extractors without classes."""
        probs = self.outputs(images)[1]
        if probs is None:
            raise GanforgeError(f"feature extractor '{self.name}' gives no class probabilities")
        return probs


class InceptionExtractor(Extractor):
    """The FID Inception-v3: pool3 features (2048) and softmax of the 1008 unbiased logits."""

    resize_method = "tf1-bilinear to 299x299 (FID Inception; gray repeated to RGB)"

    def __init__(self, weights: str | None = None, device: str | torch.device = "cpu") -> None:
        from ganforge.features.weights import WEIGHTS_SHA256, load_fid_inception

        self.name = "inception"
        self.model = load_fid_inception(weights, device, progress=False)
        self.weights_sha256: str | None = WEIGHTS_SHA256

    def outputs(self, images: Tensor) -> tuple[np.ndarray, np.ndarray | None]:
        """pool3 (B, 2048) and softmax(logits_unbiased) (B, 1008)."""
        out = self.model.extract(images, batch_size=max(1, len(images)))
        logits = torch.from_numpy(out["logits_unbiased"]).double()
        return out["pool3"], logits.softmax(1).numpy()


class RawExtractor(Extractor):
    """No network: flattened pixel values (0..255) or the points themselves (toy data)."""

    name = "raw"
    weights_sha256 = None
    resize_method = "none"
    has_probs = False

    def outputs(self, images: Tensor) -> tuple[np.ndarray, np.ndarray | None]:
        """The inputs flattened to (B, d) float64."""
        return images.reshape(len(images), -1).double().cpu().numpy(), None


@dataclass(frozen=True)
class ExtractorOptions:
    """What building an extractor may need: the device and the Inception weights' path."""

    device: str = "cpu"
    inception_weights: str | None = None


ExtractorFactory = Callable[[ExtractorOptions], Extractor]


def _classifier(name: str) -> ExtractorFactory:
    """Factory of the committed domain classifier `name` (imported only when used)."""

    def build(options: ExtractorOptions) -> Extractor:
        from ganforge.features.classifier import ClassifierExtractor

        return ClassifierExtractor(name, options.device)

    return build


def make_extractor(
    name: str, device: str = "cpu", inception_weights: str | None = None
) -> Extractor:
    """Build extractor `name`; an unknown name fails with the list of valid ones."""
    return EXTRACTORS.get(name)(ExtractorOptions(device, inception_weights))


#: Dataset -> extractor used when --features is not given.
DEFAULT_FOR_DATASET = {
    "mnist": "mnist-classifier",
    "stacked-mnist": "mnist-classifier",
    "fashion-mnist": "fashion-classifier",
}


def default_extractor(dataset: str | None, kind: str = "image") -> str:
    """The extractor for a dataset: its domain classifier, raw points for toys, else Inception."""
    if kind == "points":
        return "raw"
    return DEFAULT_FOR_DATASET.get((dataset or "").lower().replace("_", "-"), "inception")


EXTRACTORS: Registry[ExtractorFactory] = Registry("feature extractor")
EXTRACTORS.register("mnist-classifier", _classifier("mnist-classifier"),
                    "CNN trained on MNIST: 128-d penultimate features, 10 classes (per channel)")
EXTRACTORS.register("fashion-classifier", _classifier("fashion-classifier"),
                    "CNN trained on Fashion-MNIST: 128-d features, 10 classes (per channel)")
EXTRACTORS.register("zebra-classifier", _classifier("zebra-classifier"),
                    "CNN trained on horse2zebra (64x64 RGB): 128-d features, p(horse), p(zebra)")
EXTRACTORS.register("inception", lambda o: InceptionExtractor(o.inception_weights, o.device),
                    "FID Inception-v3 pool3 (2048-d), 1008 classes; needs its weights file")
EXTRACTORS.register("raw", lambda o: RawExtractor(),
                    "no network: pixels or toy points as they are")

__all__ = [
    "EXTRACTORS",
    "Extractor",
    "ExtractorOptions",
    "InceptionExtractor",
    "RawExtractor",
    "default_extractor",
    "make_extractor",
]
