"""The CelebA attribute classifier (celeba-classifier), StarGAN's judge: committed weights and
their record, and the per-value recall the README states as the ceiling of StarGAN's success
figures, recomputed with numpy on the held-out faces of the shared subset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from ganforge.data.celeba import load_celeba
from ganforge.features.classifier import ASSETS, MANIFEST, load_classifier, to_input
from ganforge.features.weights import file_sha256

NAME = "celeba-classifier"
ATTRS = ["Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young"]
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_subset = pytest.mark.skipif(not (DATA / "celeba_10k_89x109").is_dir(),
                                  reason="no shared CelebA subset")


def entry() -> dict[str, Any]:
    return dict(json.loads(MANIFEST.read_text())[NAME])


def test_manifest_records_the_weights_and_the_balanced_loss() -> None:
    e = entry()
    assert file_sha256(ASSETS / e["file"]) == e["sha256"] and e["classes"] == ATTRS
    assert e["multilabel"] and "balanced" in e["loss"] and e["test_n"] == 1000
    for key in ("attribute_recall_present", "attribute_recall_absent",
                "attribute_balanced_accuracy"):
        assert sorted(e[key]) == sorted(ATTRS)
    for a in ATTRS:  # balanced accuracy is the mean of the two recalls
        mean = (e["attribute_recall_present"][a] + e["attribute_recall_absent"][a]) / 2
        assert e["attribute_balanced_accuracy"][a] == pytest.approx(mean, abs=1e-4)


@needs_subset
def test_recorded_recall_matches_the_held_out_faces() -> None:
    data = load_celeba("test", str(DATA), 64)
    assert data.attrs is not None and len(data.images) == 1000
    truth = data.attrs[:, [data.attributes.index(a) for a in ATTRS]].numpy() == 1  # (N, 5)
    model = load_classifier(NAME)
    with torch.no_grad():
        logits = torch.cat([model(to_input(data.images[i : i + 250], 64))
                            for i in range(0, 1000, 250)]).numpy()
    read = logits > 0
    e = entry()
    for j, a in enumerate(ATTRS):
        present, absent = truth[:, j], ~truth[:, j]
        assert np.mean(read[present, j]) == pytest.approx(e["attribute_recall_present"][a],
                                                          abs=1e-3)
        assert np.mean(~read[absent, j]) == pytest.approx(e["attribute_recall_absent"][a],
                                                          abs=1e-3)
        assert np.mean(read[:, j] == truth[:, j]) == pytest.approx(e["attribute_accuracy"][a],
                                                                   abs=1e-3)
    # the imbalance the balanced loss removes: no attribute is read one way on most faces of
    # the other value (the first classifier read 64 % of older faces as young)
    assert min(min(e["attribute_recall_present"].values()),
               min(e["attribute_recall_absent"].values())) > 0.6
