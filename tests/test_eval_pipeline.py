"""The evaluation pipeline against independent computations (numpy formulas, direct model calls)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganforge.data import InMemoryDataset, load_dataset
from ganforge.errors import ConfigError
from ganforge.evaluation import (
    DatasetSource,
    EvalOptions,
    dataset_source,
    evaluate,
)
from ganforge.evaluation.accumulate import split_of
from ganforge.features.classifier import load_classifier, to_input


def fid_reference(a: np.ndarray, b: np.ndarray) -> float:
    """FID with tr sqrt(S1 S2) from the eigenvalues of the (non-symmetric) product."""
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    eig = np.linalg.eigvals(s1 @ s2).real.clip(0, None)
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(eig).sum())


def classifier_outputs(images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Features and softmax straight from the network, bypassing the extractor."""
    model = load_classifier("mnist-classifier")
    with torch.no_grad():
        feats, logits = model.features_and_logits(to_input(images))
    return feats.double().numpy(), logits.double().softmax(1).numpy()


@pytest.fixture(scope="module")
def mnist_test():
    return load_dataset("mnist", split="test")


def source(data, lo: int, hi: int, name: str) -> DatasetSource:
    """Images lo:hi of a dataset as a labelled source."""
    part = type(data)(name, data.data[lo:hi], data.labels[lo:hi], data.num_classes)
    return DatasetSource(part, "test")


def test_fid_of_a_set_with_itself_is_zero(mnist_test) -> None:
    src = source(mnist_test, 0, 1000, "mnist")
    report = evaluate(src, src, EvalOptions(metrics=("fid", "kid"), n=1000))
    assert report["fid"].value == pytest.approx(0.0, abs=1e-6)
    assert abs(report["kid"].value) < 1e-3
    assert report.provenance.features == "mnist-classifier"  # the dataset's default


def test_values_match_independent_computation(mnist_test) -> None:
    real, fake = source(mnist_test, 0, 600, "mnist"), source(mnist_test, 600, 1100, "mnist")
    opts = EvalOptions(metrics=("fid", "is", "ms", "modes"), n=600, is_splits=5)
    report = evaluate(fake, real, opts)
    fa, pa = classifier_outputs(mnist_test.data[0:600])
    fb, pb = classifier_outputs(mnist_test.data[600:1100])
    assert report["fid"].value == pytest.approx(fid_reference(fa, fb), rel=1e-4)
    scores = []
    for part in np.array_split(pb, 5):  # 500 rows: five parts of 100, in stream order
        py = part.mean(0)
        scores.append(np.exp(np.mean(np.sum(part * (np.log(part) - np.log(py)), 1))))
    assert report["is"].value == pytest.approx(np.mean(scores), rel=1e-6)
    assert report["is"].values["is_std"] == pytest.approx(np.std(scores), rel=1e-4, abs=1e-9)
    py, pstar = pb.mean(0), pa.mean(0)
    sharp = np.mean(np.sum(pb * (np.log(pb) - np.log(py)), 1))
    ms = np.exp(sharp - np.sum(py * np.log(py / pstar)))
    assert report["ms"].value == pytest.approx(ms, rel=1e-6)
    assert report["modes"].values["modes"] == len(np.unique(pb.argmax(1)))
    assert (report.n_real, report.n_fake) == (600, 500)


def test_batch_size_invariance(mnist_test) -> None:
    real, fake = source(mnist_test, 0, 300, "mnist"), source(mnist_test, 300, 600, "mnist")
    metrics = ("fid", "kid", "is", "pr", "dc", "1nn", "w1", "modes")
    big = evaluate(fake, real, EvalOptions(metrics=metrics, n=300, batch_size=300))
    small = evaluate(fake, real, EvalOptions(metrics=metrics, n=300, batch_size=7))
    for a, b in zip(big.results, small.results):
        for key, value in a.values.items():
            assert b.values[key] == pytest.approx(value, rel=1e-5, abs=1e-7), (a.metric, key)


def test_subsets_and_reservoir_are_seeded_and_bounded() -> None:
    real, fake = dataset_source("mnist", "test"), dataset_source("mnist", "train")
    opts = EvalOptions(metrics=("fid", "kid"), n=400, max_samples=150, batch_size=64)
    one, two = evaluate(fake, real, opts), evaluate(fake, real, opts)
    assert one["kid"].value == two["kid"].value and one["fid"].value == two["fid"].value
    assert (one["kid"].n_real, one["kid"].n_fake) == (150, 150)
    assert (one["fid"].n_real, one["fid"].n_fake) == (400, 400)
    other = evaluate(fake, real, EvalOptions(metrics=("fid",), n=400, seed=1))
    assert other["fid"].value != one["fid"].value


def test_stacked_mnist_modes_read_each_channel(mnist_test) -> None:
    stacked = dataset_source("stacked-mnist", "test")
    report = evaluate(stacked, stacked, EvalOptions(metrics=("modes", "fid"), n=500))
    _, p = classifier_outputs(stacked.data.data[:500].reshape(1500, 1, 28, 28))
    digits = p.argmax(1).reshape(500, 3)
    expected = len(np.unique(digits @ np.array([100, 10, 1])))
    assert report["modes"].values["modes"] == expected
    assert report["modes"].values["num_classes"] == 1000
    assert report.extra["fake_shape"] == [3, 28, 28]


def test_toy_points_coverage_and_w1() -> None:
    a, b = (load_dataset("ring8", split=split).data[:800] for split in ("test", "train"))
    real, fake = (DatasetSource(InMemoryDataset("ring8", x, kind="points"), "test") for x in (a, b))
    report = evaluate(fake, real, EvalOptions(n=800))
    assert [r.metric for r in report.results] == ["fid", "w1", "pr", "dc", "modes"]
    assert report["modes"].values["modes"] == 8 and report.provenance.features == "raw"
    assert report["w1"].params["method"] == "exact"
    assert report["fid"].value == pytest.approx(fid_reference(a.double().numpy(),
                                                              b.double().numpy()), rel=1e-6)


def test_metric_needs_are_checked_before_work() -> None:
    real, fake = dataset_source("ring8", "test"), dataset_source("ring8", "train")
    with pytest.raises(ConfigError, match="need class probabilities"):
        evaluate(fake, real, EvalOptions(metrics=("is",), n=10))
    img = dataset_source("mnist", "test")
    with pytest.raises(ConfigError, match="cannot compare"):
        evaluate(fake, img, EvalOptions(metrics=("fid",), n=10))


def test_gan_train_on_labelled_real_samples(mnist_test) -> None:
    real = dataset_source("mnist", "test")
    fake = source(mnist_test, 5000, 5400, "labelled")  # real digits standing in for a cGAN
    report = evaluate(fake, real, EvalOptions(metrics=("gan-train",), n=400, gan_epochs=2))
    values = report["gan-train"].values
    assert all(0.0 <= v <= 1.0 for v in values.values())
    assert values["gan_base"] > 0.5 and values["gan_train"] > 0.5 and values["gan_test"] > 0.5


def test_split_of_matches_contiguous_parts() -> None:
    n, splits = 23, 5
    expected = [s for s in range(splits) for _ in range(s * n // splits, (s + 1) * n // splits)]
    assert list(split_of(np.arange(n), n, splits)) == expected
