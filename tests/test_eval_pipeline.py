"""The evaluation pipeline against independent computations (numpy formulas, direct model calls)."""

from __future__ import annotations

import tracemalloc
from dataclasses import replace

import numpy as np
import pytest
import scipy.stats
import torch

from ganforge.data import InMemoryDataset, load_dataset
from ganforge.errors import ConfigError
from ganforge.evaluation import (
    Chunk,
    DatasetSource,
    EvalOptions,
    SampleSource,
    dataset_source,
    evaluate,
)
from ganforge.evaluation.accumulate import Needs, accumulate, split_of
from ganforge.features import RawExtractor
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
    src = source(mnist_test, 0, 500, "mnist")
    report = evaluate(src, src, EvalOptions(metrics=("fid", "pr"), n=500))
    assert report["fid"].value == pytest.approx(0.0, abs=1e-6)
    assert report["pr"].values == {"precision": 1.0, "recall": 1.0}
    assert report.provenance.features == "mnist-classifier"  # the dataset's default


def test_values_match_independent_computation(mnist_test) -> None:
    real, fake = source(mnist_test, 0, 500, "mnist"), source(mnist_test, 500, 1000, "mnist")
    opts = EvalOptions(metrics=("fid", "kid", "is", "ms", "modes"), n=600, is_splits=5,
                       kid_subsets=2)
    report = evaluate(fake, real, opts)
    fa, pa = classifier_outputs(mnist_test.data[0:500])
    fb, pb = classifier_outputs(mnist_test.data[500:1000])
    assert report["fid"].value == pytest.approx(fid_reference(fa, fb), rel=1e-4)
    # every KID subset of 1000 holds all 500 rows: the unbiased MMD^2 of the full sets
    kxx, kyy, kxy = ((x @ y.T / 128 + 1) ** 3 for x, y in ((fa, fa), (fb, fb), (fa, fb)))
    mmd = ((kxx.sum() - np.trace(kxx)) + (kyy.sum() - np.trace(kyy))) / (500 * 499) \
        - 2 * kxy.mean()
    assert report["kid"].value == pytest.approx(mmd, rel=1e-5)
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
    assert (report.n_real, report.n_fake) == (500, 500)


def test_batch_size_invariance(mnist_test) -> None:
    real, fake = source(mnist_test, 0, 250, "mnist"), source(mnist_test, 250, 500, "mnist")
    metrics = ("fid", "kid", "is", "pr", "dc", "1nn", "w1", "modes")
    opts = EvalOptions(metrics=metrics, n=250, batch_size=250, kid_subsets=5)
    big = evaluate(fake, real, opts)
    small = evaluate(fake, real, replace(opts, batch_size=7))
    for a, b in zip(big.results, small.results):
        for key, value in a.values.items():
            assert b.values[key] == pytest.approx(value, rel=1e-5, abs=1e-7), (a.metric, key)


def test_subsets_and_reservoir_are_seeded_and_bounded(mnist_test) -> None:
    real, fake = source(mnist_test, 0, 5000, "mnist"), source(mnist_test, 5000, 10000, "mnist")
    opts = EvalOptions(metrics=("fid", "kid"), n=300, max_samples=120, batch_size=64,
                       kid_subsets=5)
    one, two = evaluate(fake, real, opts), evaluate(fake, real, opts)
    assert one["kid"].value == two["kid"].value and one["fid"].value == two["fid"].value
    assert (one["kid"].n_real, one["kid"].n_fake) == (120, 120)
    assert (one["fid"].n_real, one["fid"].n_fake) == (300, 300)
    other = evaluate(fake, real, replace(opts, metrics=("fid",), seed=1))
    assert other["fid"].value != one["fid"].value


def test_stacked_mnist_modes_read_each_channel(mnist_test) -> None:
    stacked = dataset_source("stacked-mnist", "test")
    report = evaluate(stacked, stacked, EvalOptions(metrics=("modes", "fid"), n=300))
    idx = torch.randperm(10_000, generator=torch.Generator().manual_seed(0))[:300].sort().values
    _, p = classifier_outputs(stacked.data.data[idx].reshape(900, 1, 28, 28))
    digits = p.argmax(1).reshape(300, 3)
    expected = len(np.unique(digits @ np.array([100, 10, 1])))
    assert report["modes"].values["modes"] == expected
    assert report["modes"].values["num_classes"] == 1000
    assert report.extra["fake_shape"] == [3, 28, 28]


def brute_force_prdc(real: np.ndarray, fake: np.ndarray, k_pr: int, k_dc: int) -> dict:
    """Precision/recall (Kynkäänniemi et al.) and density/coverage (Naeem et al.) from the full
    distance matrices: a point's ball reaches its k-th nearest neighbour in its own set."""
    def dist(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1))

    drr, dff, drf = dist(real, real), dist(fake, fake), dist(real, fake)
    r_pr, f_pr = np.sort(drr, 1)[:, k_pr], np.sort(dff, 1)[:, k_pr]  # column 0: the point
    r_dc = np.sort(drr, 1)[:, k_dc]
    inside = drf < r_dc[:, None]  # (real, fake): fake j in real i's k_dc ball
    return {"precision": (drf <= r_pr[:, None]).any(0).mean(),
            "recall": (drf <= f_pr[None, :]).any(1).mean(),
            "density": inside.sum() / (k_dc * len(fake)), "coverage": inside.any(1).mean()}


def points(x: torch.Tensor, name: str = "ring8") -> DatasetSource:
    return DatasetSource(InMemoryDataset(name, x, kind="points"), "test")


def test_toy_points_coverage_and_w1() -> None:
    a, b = (load_dataset("ring8", split=split).data[:800] for split in ("test", "train"))
    b = b + 0.02 * torch.randn(800, 2, generator=torch.Generator().manual_seed(0))  # wider modes
    real, fake = points(a), points(b)
    report = evaluate(fake, real, EvalOptions(n=800))
    assert [r.metric for r in report.results] == ["fid", "w1", "pr", "dc", "modes"]
    assert report["modes"].values["modes"] == 8 and report.provenance.features == "raw"
    assert report["w1"].params["method"] == "exact"
    x, y = a.double().numpy(), b.double().numpy()
    assert report["fid"].value == pytest.approx(fid_reference(x, y), rel=1e-6)
    want = brute_force_prdc(x, y, k_pr=3, k_dc=5)
    assert (report["pr"].params["k"], report["dc"].params["k"]) == (3, 5)
    assert {**report["pr"].values, **report["dc"].values} == pytest.approx(want, rel=1e-12)
    assert want["precision"] < 0.9 < want["recall"]  # wider fakes: real in their manifold
    # W1 between a set and its translate by v is |v|: the identity matching costs |v| and the
    # 1-Lipschitz f(x) = x.v / |v| bounds W1 below by |v| (Kantorovich duality).
    moved = evaluate(points(a + torch.tensor([0.3, -0.4])), real, EvalOptions(("w1",), n=800))
    assert moved["w1"].value == pytest.approx(0.5, rel=1e-6)
    assert report["w1"].value < 0.1  # about ring8's spread: far below the 0.5 of a shift


def test_one_dimensional_w1_matches_scipy() -> None:
    a, b = (load_dataset("gauss1d", split=split).data[:500] for split in ("test", "train"))
    report = evaluate(points(b + 0.25, "gauss1d"), points(a, "gauss1d"),
                      EvalOptions(("w1",), n=500))
    assert report["w1"].params["method"] == "exact-1d"
    want = scipy.stats.wasserstein_distance(a[:, 0].double().numpy(),
                                            (b[:, 0] + 0.25).double().numpy())
    assert report["w1"].value == pytest.approx(want, rel=1e-9)


def test_metric_needs_are_checked_before_work() -> None:
    real, fake = dataset_source("ring8", "test"), dataset_source("ring8", "train")
    with pytest.raises(ConfigError, match="need class probabilities"):
        evaluate(fake, real, EvalOptions(metrics=("is",), n=10))
    img = dataset_source("mnist", "test")
    with pytest.raises(ConfigError, match="cannot compare"):
        evaluate(fake, img, EvalOptions(metrics=("fid",), n=10))


def test_gan_train_gets_labelled_fakes_and_both_real_splits(mnist_test, monkeypatch) -> None:
    from ganforge.evaluation import metrics as dispatch
    from ganforge.metrics import GanTrainTest

    seen = {}

    def fake_metric(make, real_train, real_test, fake, *, epochs, seed):
        seen.update(real_train=real_train, real_test=real_test, fake=fake, model=make())
        return GanTrainTest(0.5, 0.25, 0.75)

    monkeypatch.setattr(dispatch.M, "gan_train_test", fake_metric)
    real = dataset_source("mnist", "test")
    fake = source(mnist_test, 5000, 5100, "labelled")  # real digits standing in for a cGAN
    report = evaluate(fake, real, EvalOptions(metrics=("gan-train",), n=100))
    assert report["gan-train"].values == {"gan_train": 0.5, "gan_test": 0.25, "gan_base": 0.75}
    assert torch.equal(seen["fake"][0], mnist_test.data[5000:5100])
    assert torch.equal(seen["fake"][1], mnist_test.labels[5000:5100])
    train = load_dataset("mnist", split="train")
    x, y = seen["real_train"]
    rows = {bytes(r.numpy()): int(label) for r, label in zip(train.data.flatten(1), train.labels)}
    assert len(x) == 100 and all(rows.get(bytes(r.numpy())) == int(t)
                                 for r, t in zip(x.flatten(1), y))  # from the train split
    assert len(seen["real_test"][0]) == 100
    assert seen["model"](x[:2].float()).shape == (2, 10)
    with pytest.raises(ConfigError, match="labelled samples"):
        unlabelled = DatasetSource(InMemoryDataset("u", mnist_test.data[:50]), "test")
        evaluate(unlabelled, real, EvalOptions(metrics=("gan-train",), n=50))


def test_split_of_matches_contiguous_parts() -> None:
    n, splits = 23, 5
    expected = [s for s in range(splits) for _ in range(s * n // splits, (s + 1) * n // splits)]
    assert list(split_of(np.arange(n), n, splits)) == expected


class NoiseImages(SampleSource):
    """An endless stream of random 8x8 gray images (a stand-in for a generator)."""

    name, dataset = "noise", None

    def available(self) -> int | None:
        return None

    def chunks(self, n: int, batch_size: int, seed: int):
        gen = torch.Generator().manual_seed(seed)
        for start in range(0, n, batch_size):
            size = min(batch_size, n - start)
            yield Chunk(torch.randint(0, 256, (size, 1, 8, 8), generator=gen, dtype=torch.uint8))


def test_memory_does_not_grow_with_the_number_of_samples() -> None:
    def peak(n: int) -> int:
        tracemalloc.start()
        side = accumulate(NoiseImages(), RawExtractor(), Needs(samples=True), n=n,
                          batch_size=100, seed=0, max_samples=300)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert side.count == n and len(side.features.samples()) == 300
        return top

    small, large = peak(1_000), peak(20_000)
    assert large < 1.2 * small  # 20x the samples, the same memory: moments + a 300-row reservoir
