"""The horse-vs-zebra classifier: committed weights, their hash check, accuracy on the real test
folders, and its use as a feature extractor."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.data import load_dataset
from ganforge.errors import ConfigError, GanforgeError
from ganforge.features import EXTRACTORS, make_extractor
from ganforge.features import classifier as clf
from ganforge.features.classifier import (
    ASSETS,
    MANIFEST,
    DomainClassifier,
    classifier_spec,
    load_classifier,
)
from ganforge.features.weights import file_sha256

NAME = "zebra-classifier"
DATA = Path(os.environ.get("GANFORGE_DATA", "")) / "horse2zebra"


@pytest.fixture(scope="module")
def test_split() -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 RGB test images at their native 256x256 and labels (0 horse, 1 zebra)."""
    if not (DATA / "testA").is_dir() or not (DATA / "testB").is_dir():
        pytest.skip(f"horse2zebra test folders not found under {DATA}")
    parts = [load_dataset(f"folder:{DATA / f}", image_size=256, channels=3).data
             for f in ("testA", "testB")]
    labels = torch.cat([torch.full((len(p),), k) for k, p in enumerate(parts)])
    return torch.cat(parts), labels


def test_manifest_records_the_weights_and_how_they_were_trained() -> None:
    entry = json.loads(MANIFEST.read_text())[NAME]
    path = ASSETS / entry["file"]
    assert entry["file"] == "horse2zebra-classifier.safetensors" and path.is_file()
    assert file_sha256(path) == entry["sha256"] and path.stat().st_size < 1_000_000
    assert entry["dataset"] == "horse2zebra" and entry["classes"] == ["horse", "zebra"]
    assert entry["test_n"] == 260 and entry["test_accuracy"] >= 0.90
    assert entry["cpu"] and entry["train_seconds"] > 0 and entry["seed"] == 0


def test_loading_checks_the_sha256(monkeypatch: pytest.MonkeyPatch) -> None:
    model = load_classifier(NAME)
    assert isinstance(model, DomainClassifier) and not model.training
    assert model.body[0][0].in_channels == 3 and model.head.out_features == 2
    manifest = clf.read_manifest()
    tampered = dict(manifest, **{NAME: dict(manifest[NAME], sha256="0" * 64)})
    monkeypatch.setattr(clf, "read_manifest", lambda: tampered)
    with pytest.raises(GanforgeError, match="has sha256 .* records 0000"):
        load_classifier(NAME)
    monkeypatch.setattr(clf, "read_manifest", lambda: {})
    with pytest.raises(GanforgeError, match="scripts/train_domain_classifier.py"):
        load_classifier(NAME)


def test_accuracy_on_the_real_test_folders(test_split: tuple[torch.Tensor, torch.Tensor]) -> None:
    images, labels = test_split
    assert len(images) == 260 and int(labels.sum()) == 140  # 120 horses, 140 zebras
    entry = json.loads(MANIFEST.read_text())[NAME]
    probs = make_extractor(NAME).probs(images)  # the extraction path: resize 256 -> 64 inside
    right = probs.argmax(1) == labels.numpy()
    assert float(right.mean()) >= entry["test_accuracy"] - 0.01
    for k, name in enumerate(("horse", "zebra")):  # each domain's recall: success's ceiling
        assert float(right[labels.numpy() == k].mean()) >= entry["class_recall"][name] - 0.01


def test_extractor_outputs_and_provenance() -> None:
    ext = make_extractor(NAME)
    assert NAME in EXTRACTORS.names() and len(ext.weights_sha256 or "") == 64
    assert "64x64" in ext.resize_method and "per channel" not in ext.resize_method
    g = torch.Generator().manual_seed(0)
    rgb = torch.randint(0, 256, (4, 3, 128, 128), dtype=torch.uint8, generator=g)
    feats, probs = ext.outputs(rgb)
    assert feats.shape == (4, 128) and (feats >= 0).all()
    assert probs is not None and probs.shape == (4, 2)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-12)
    gray = rgb[:, :1]
    np.testing.assert_allclose(ext.features(gray), ext.features(gray.expand(-1, 3, -1, -1)))
    with pytest.raises(GanforgeError, match="reads 3-channel"):
        ext.outputs(torch.zeros(1, 4, 64, 64, dtype=torch.uint8))


def test_classifier_table() -> None:
    spec = classifier_spec(NAME)
    assert (spec.input_size, spec.channels, spec.num_classes) == (64, 3, 2)
    assert classifier_spec("mnist-classifier").input_size == 28
    with pytest.raises(ConfigError, match="unknown domain classifier 'horse'; choose from"):
        classifier_spec("horse")
