"""Who judges translations between two domains, and whose features FID/KID read: a committed
domain classifier whose classes are the domains (horse2zebra: zebra-classifier), the mnist-style
rules of `digits_task`, else nobody (success is skipped) and the FID Inception for features when
its weights are at hand.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor

from ganforge.errors import GanforgeError
from ganforge.features import Extractor, make_extractor

#: Unpaired data -> the committed classifier whose classes are its domains (success, FID/KID).
DOMAIN_CLASSIFIERS = {"horse2zebra": "zebra-classifier"}
DIGITS_TASK = "mnist-style"  # judged by ganforge.evaluation.digits_task
#: Default FID/KID features by dataset (else the FID Inception, when its weights are here).
DEFAULT_FEATURES = {"horse2zebra": "zebra-classifier", DIGITS_TASK: "mnist-classifier"}


class Judge(ABC):
    """Decides, image by image, whether translations reached their target domain."""

    name: str
    weights_sha256: str | None
    method: str

    @abstractmethod
    def score(self, images: Tensor, target: str, labels: Tensor | None) -> dict[str, Tensor]:
        """0/1 per image, (B,) float64, of uint8 translations into domain `target`: "success",
        and "class_preservation" where the source images' `labels` are known; a classifier
        judge adds "target_prob", its probability of the target domain."""


class ClassifierJudge(Judge):
    """A committed classifier whose classes are the data's domains (zebra-classifier: horse,
    zebra): a translation succeeds when its argmax class is the target domain; "target_prob"
    is the probability the classifier gives the target domain, which shows how near the
    decision a success or a failure lies."""

    def __init__(self, name: str, device: str | torch.device = "cpu") -> None:
        from ganforge.features.classifier import ClassifierExtractor, read_manifest

        self.extractor = ClassifierExtractor(name, device)
        self.name, self.weights_sha256 = name, self.extractor.weights_sha256
        self.classes = [str(c) for c in read_manifest().get(name, {}).get("classes", [])]
        self.method = self.extractor.resize_method

    def score(self, images: Tensor, target: str, labels: Tensor | None) -> dict[str, Tensor]:
        if target not in self.classes:
            raise GanforgeError(f"{self.name} tells {', '.join(self.classes) or 'no classes'} "
                                f"apart; it cannot judge domain '{target}'")
        probs = torch.from_numpy(self.extractor.probs(images)).double()
        k = self.classes.index(target)
        return {"success": (probs.argmax(1) == k).double(), "target_prob": probs[:, k]}


class DigitsJudge(Judge):
    """mnist-style (`digits_task`): the border rule decides the style, the MNIST classifier
    whether the source digit survived; per image, what `score_translations` averages."""

    def __init__(self, device: str | torch.device = "cpu") -> None:
        from ganforge.evaluation.digits_task import CLASSIFIER
        from ganforge.features.classifier import classifier_info, load_classifier

        self.classifier = load_classifier(CLASSIFIER, device)
        self.name, self.weights_sha256 = CLASSIFIER, classifier_info(CLASSIFIER).sha256
        self.method = ("none: the 28x28 digit inside the 32x32 padding, in plain style "
                       "(digits_task); the domain by the border rule")

    def score(self, images: Tensor, target: str, labels: Tensor | None) -> dict[str, Tensor]:
        from ganforge.evaluation import digits_task

        bold = digits_task.in_bold_inverted(images)
        out = {"success": (bold if target == digits_task.DOMAINS[1] else ~bold).double()}
        if labels is not None:
            digits = digits_task.predict_digits(images, target, self.classifier)
            out["class_preservation"] = (digits == labels.cpu()).double()
        return out


def make_judge(data: str, device: str | torch.device) -> tuple[Judge | None, str]:
    """The judge of translation success on `data`, or None and why there is none."""
    if data == DIGITS_TASK:
        return DigitsJudge(device), ""
    if data in DOMAIN_CLASSIFIERS:
        return ClassifierJudge(DOMAIN_CLASSIFIERS[data], device), ""
    known = ", ".join([*DOMAIN_CLASSIFIERS, DIGITS_TASK])
    return None, f"no domain classifier for {data} (there is one for {known})"


def make_features(data: str, features: str | None, inception_weights: str | None,
                  device: str | torch.device) -> tuple[Extractor | None, str]:
    """The FID/KID extractor: `features`, the data's classifier, else the FID Inception when its
    weights are at hand (never downloaded unasked); or None and why."""
    name = features or DEFAULT_FEATURES.get(data)
    if name is None:
        from ganforge.features.weights import WEIGHTS_FILENAME, weights_dir

        if inception_weights is None and not (weights_dir() / WEIGHTS_FILENAME).is_file():
            return None, (f"no domain classifier for {data} and no FID Inception weights in "
                          f"{weights_dir()}; pass --inception-weights PATH, or --features "
                          "inception to download them")
        name = "inception"
    return make_extractor(name, str(device), inception_weights), ""
