"""Tests for the mnist-style scoring helper: the classifier's reading and the domain rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganforge.data import load_dataset
from ganforge.data.translation import UnpairedImages
from ganforge.errors import GanforgeError
from ganforge.evaluation.digits_task import (
    CLASSIFIER,
    class_preservation,
    domain_success,
    in_bold_inverted,
    score_translations,
    to_plain_mnist,
)
from ganforge.features.classifier import DomainClassifier, load_classifier


@pytest.fixture(scope="module")
def test_set() -> UnpairedImages:
    ds = load_dataset("mnist-style", split="test")
    assert isinstance(ds, UnpairedImages)
    return ds


@pytest.fixture(scope="module")
def classifier() -> DomainClassifier:
    return load_classifier(CLASSIFIER)


def test_classifier_reads_both_real_domains(test_set: UnpairedImages,
                                            classifier: DomainClassifier) -> None:
    assert test_set.labels_a is not None and test_set.labels_b is not None
    plain = class_preservation(test_set.a, test_set.labels_a, "mnist", classifier)
    bold = class_preservation(test_set.b, test_set.labels_b, "bold-inverted", classifier)
    assert plain >= 0.99 and bold >= 0.99  # all 5000 + 5000: 99.2 % and 99.3 % (eroded)
    wrong = class_preservation(test_set.b[:500], test_set.labels_b[:500], "mnist", classifier)
    assert wrong < 0.5  # read without inverting, bold-inverted digits are not digits


def test_domain_rule_on_real_images(test_set: UnpairedImages) -> None:
    assert domain_success(test_set.a, "mnist") >= 0.99
    assert domain_success(test_set.b, "bold-inverted") >= 0.99
    assert domain_success(test_set.a, "bold-inverted") <= 0.01
    floats = test_set.b.float() / 127.5 - 1  # generator outputs in [-1, 1] read the same
    assert torch.equal(in_bold_inverted(floats), in_bold_inverted(test_set.b))


def test_plain_style_inverts_erodes_and_crops(test_set: UnpairedImages) -> None:
    from scipy.ndimage import grey_erosion

    b = test_set.b[:8]
    plain = to_plain_mnist(b, "bold-inverted")
    assert plain.shape == (8, 1, 28, 28)
    eroded = grey_erosion(255 - b.numpy().astype(np.float64), size=(1, 1, 3, 3))
    assert torch.allclose(plain.double(), torch.from_numpy(eroded[:, :, 2:30, 2:30]), atol=1e-3)
    assert torch.allclose(to_plain_mnist(test_set.a[:8], "mnist"),
                          test_set.a[:8, :, 2:30, 2:30].float(), atol=1e-3)


def test_score_of_perfect_and_failed_translations(test_set: UnpairedImages,
                                                  classifier: DomainClassifier) -> None:
    assert test_set.labels_b is not None
    b, labels = test_set.b[:500], test_set.labels_b[:500]
    perfect = score_translations(b, labels, "bold-inverted", classifier)
    assert perfect.n == 500 and perfect.domain_success == 1.0
    assert perfect.class_preservation > 0.9
    unchanged = score_translations(255 - b, labels, "bold-inverted", classifier)
    assert unchanged.domain_success == 0.0  # dark background: still in the source style
    shuffled = score_translations(b, labels.roll(1), "bold-inverted", classifier)
    assert shuffled.class_preservation < 0.3


def test_errors() -> None:
    with pytest.raises(GanforgeError, match="unknown mnist-style domain 'zebra'"):
        domain_success(torch.zeros(2, 1, 32, 32), "zebra")
    with pytest.raises(GanforgeError, match=r"mnist-style images are \(N, 1, 32, 32\)"):
        in_bold_inverted(torch.zeros(2, 3, 32, 32))
    with pytest.raises(GanforgeError, match="one source label per image"):
        score_translations(torch.zeros(2, 1, 32, 32), torch.zeros(3), "mnist")
