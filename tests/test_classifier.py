"""Domain classifiers: shapes, the committed weights, their recorded accuracy, the extractors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ganforge.data import load_dataset
from ganforge.data.idx import find_split
from ganforge.errors import ConfigError, GanforgeError
from ganforge.features import EXTRACTORS, default_extractor, make_extractor
from ganforge.features.classifier import (
    ASSETS,
    MANIFEST,
    DomainClassifier,
    joint_probs,
    load_classifier,
    to_input,
)
from ganforge.features.weights import file_sha256

NAMES = ("mnist-classifier", "fashion-classifier")


def test_network_output_shapes() -> None:
    torch.manual_seed(0)
    net = DomainClassifier().eval()
    feats, logits = net.features_and_logits(torch.randn(5, 1, 28, 28))
    assert feats.shape == (5, 128) and logits.shape == (5, 10)
    assert (feats >= 0).all()  # after ReLU
    assert net(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_to_input_scales_and_resizes() -> None:
    assert to_input(torch.zeros(3, 1, 14, 20, dtype=torch.uint8)).shape == (3, 1, 28, 28)
    full = torch.full((1, 1, 28, 28), 255, dtype=torch.uint8)
    assert torch.equal(to_input(full), torch.ones(1, 1, 28, 28))
    assert torch.equal(to_input(torch.zeros(1, 1, 28, 28, dtype=torch.uint8)),
                       -torch.ones(1, 1, 28, 28))


def test_joint_probs_is_the_outer_product_in_stacked_order() -> None:
    g = torch.Generator().manual_seed(0)
    p = torch.rand(4, 3, 10, generator=g, dtype=torch.float64)
    p /= p.sum(-1, keepdim=True)
    joint = joint_probs(p)
    assert joint.shape == (4, 1000)
    r, gg, b = 7, 2, 5
    assert joint[1, 100 * r + 10 * gg + b] == pytest.approx(float(p[1, 0, r] * p[1, 1, gg]
                                                                    * p[1, 2, b]))
    assert torch.allclose(joint.sum(1), torch.ones(4, dtype=torch.float64))


@pytest.mark.parametrize("name", NAMES)
def test_manifest_records_weights_and_target_accuracy(name: str) -> None:
    entry = json.loads(MANIFEST.read_text())[name]
    path = ASSETS / entry["file"]
    assert file_sha256(path) == entry["sha256"]
    assert path.stat().st_size < 1_000_000  # "a few hundred KB"
    target = 0.992 if name == "mnist-classifier" else 0.91
    assert entry["test_accuracy"] >= target and entry["test_n"] == 10_000


def measured_accuracy(name: str, data) -> float:  # noqa: ANN001
    """Accuracy of the committed weights on every image of a test split."""
    model = load_classifier(name)
    with torch.no_grad():
        pred = torch.cat([model(to_input(data.data[i : i + 2000])).argmax(1)
                          for i in range(0, len(data), 2000)])
    return float((pred == data.labels).double().mean())


@pytest.mark.slow
def test_mnist_accuracy_measured_on_the_full_test_split_matches_the_manifest() -> None:
    test = load_dataset("mnist", split="test")
    entry = json.loads(MANIFEST.read_text())["mnist-classifier"]
    assert len(test) == entry["test_n"] == 10_000
    assert measured_accuracy("mnist-classifier", test) == pytest.approx(entry["test_accuracy"],
                                                                         abs=0.001)


@pytest.mark.slow
def test_fashion_accuracy_measured_on_the_full_test_split_matches_the_manifest(
        fashion_test) -> None:
    entry = json.loads(MANIFEST.read_text())["fashion-classifier"]
    assert len(fashion_test) == entry["test_n"] == 10_000
    assert measured_accuracy("fashion-classifier", fashion_test) == pytest.approx(
        entry["test_accuracy"], abs=0.001)


@pytest.fixture(scope="module")
def fashion_test():
    if find_split("fashion-mnist", "test") is None:  # skip only when the files are absent
        pytest.skip("Fashion-MNIST test files not found (set GANFORGE_DATA)")
    return load_dataset("fashion-mnist", split="test")


def test_extractor_gray_and_stacked_outputs() -> None:
    ext = make_extractor("mnist-classifier")
    assert ext.name == "mnist-classifier" and len(ext.weights_sha256 or "") == 64
    gray = load_dataset("mnist", split="test").data[:6]
    feats, probs = ext.outputs(gray)
    assert feats.shape == (6, 128) and probs is not None and probs.shape == (6, 10)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-9)
    stacked = torch.cat([gray[:2], gray[2:4], gray[4:6]], dim=1)  # digits r, g, b
    s_feats, s_probs = ext.outputs(stacked)
    assert s_feats.shape == (2, 384) and s_probs is not None and s_probs.shape == (2, 1000)
    np.testing.assert_allclose(s_feats[:, 128:256], feats[2:4], rtol=1e-5, atol=1e-5)
    digits = probs.argmax(1)
    assert list(s_probs.argmax(1)) == [100 * digits[i] + 10 * digits[i + 2] + digits[i + 4]
                                        for i in range(2)]


def test_resized_input_is_accepted() -> None:
    ext = make_extractor("mnist-classifier")
    feats = ext.features(torch.zeros(3, 1, 32, 32, dtype=torch.uint8))
    assert feats.shape == (3, 128)


def test_registry_is_loud_and_defaults_follow_the_dataset() -> None:
    assert set(EXTRACTORS.names()) >= {"mnist-classifier", "fashion-classifier", "inception",
                                       "raw"}
    with pytest.raises(ConfigError, match="choose from: fashion-classifier, inception"):
        make_extractor("mnsit-classifier")
    with pytest.raises(ConfigError, match="registered twice"):
        EXTRACTORS.register("raw", EXTRACTORS.get("raw"))
    assert default_extractor("mnist") == "mnist-classifier"
    assert default_extractor("stacked-mnist") == "mnist-classifier"
    assert default_extractor("fashion_mnist") == "fashion-classifier"
    assert default_extractor("folder:/x") == "inception"
    assert default_extractor("ring8", kind="points") == "raw"
    with pytest.raises(GanforgeError, match="no class probabilities"):
        make_extractor("raw").probs(torch.zeros(1, 2))


def test_inception_extractor_wraps_the_fid_network(monkeypatch) -> None:
    from ganforge.features import weights
    from ganforge.features.inception import FIDInceptionV3

    torch.manual_seed(0)
    net = FIDInceptionV3()
    monkeypatch.setattr(weights, "load_fid_inception", lambda path, device, progress: net)
    ext = make_extractor("inception")
    assert ext.weights_sha256 == weights.WEIGHTS_SHA256 and "299" in ext.resize_method
    images = torch.randint(0, 256, (2, 1, 28, 28), dtype=torch.uint8)
    feats, probs = ext.outputs(images)
    with torch.no_grad():
        direct = net(images)
    np.testing.assert_allclose(feats, direct["pool3"].numpy(), rtol=1e-5, atol=1e-6)
    assert probs is not None and probs.shape == (2, 1008)
    np.testing.assert_allclose(probs, direct["logits_unbiased"].double().softmax(1).numpy(),
                               rtol=1e-5, atol=1e-9)
