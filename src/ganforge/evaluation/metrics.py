"""Metric dispatch: each metric name maps to what it needs from the stream and to a short
function that calls the pure maths in `ganforge.metrics` on the accumulated statistics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import rel_entr
from torch import Tensor, nn

from ganforge import metrics as M
from ganforge.errors import ConfigError, GanforgeError
from ganforge.evaluation.accumulate import Needs, SideStats, gathered
from ganforge.registry import Registry

Values = dict[str, float | int]


@dataclass(frozen=True)
class MetricParams:
    """Knobs of the metrics; every one is recorded with the result it affects."""

    seed: int = 0
    is_splits: int = 10
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    pr_k: int = 3
    dc_k: int = 5
    gan_epochs: int = 5


@dataclass
class MetricContext:
    """What a metric may read besides the two sides: parameters and the real training split."""

    params: MetricParams
    real_train: Callable[[int], tuple[Tensor, Tensor]] | None = None


@dataclass
class Outcome:
    """A metric's values, the parameters used and how many real/fake samples it saw."""

    values: Values
    params: dict[str, Any] = field(default_factory=dict)
    n_real: int = 0
    n_fake: int = 0


MetricFn = Callable[[SideStats, SideStats, MetricContext], Outcome]


@dataclass(frozen=True)
class MetricDef:
    """A metric: its headline value's key, its needs and its computation."""

    primary: str
    needs: Needs
    compute: MetricFn
    points_needs: Needs | None = None  # different needs on toy points, if any


def _samples(real: SideStats, fake: SideStats) -> tuple[np.ndarray, np.ndarray]:
    """The kept raw features of both sides."""
    return real.features.samples(), fake.features.samples()


def fid(real: SideStats, fake: SideStats, ctx: MetricContext) -> Outcome:
    """FID from the streamed means and covariances of all samples (Heusel et al. 2017)."""
    value = M.frechet_distance_from_stats(real.features.mean(), real.features.cov(),
                                          fake.features.mean(), fake.features.cov())
    return Outcome({"fid": value}, {}, real.count, fake.count)


def kid(real: SideStats, fake: SideStats, ctx: MetricContext) -> Outcome:
    """KID on the feature reservoirs (Binkowski et al. 2018)."""
    a, b = _samples(real, fake)
    p = ctx.params
    mean, std = M.kernel_inception_distance(a, b, p.kid_subsets, p.kid_subset_size, p.seed)
    size = min(p.kid_subset_size, len(a), len(b))
    return Outcome({"kid": mean, "kid_std": std},
                   {"subsets": p.kid_subsets, "subset_size": size}, len(a), len(b))


def _split_scores(side: SideStats) -> tuple[float, float]:
    """Mean and population std of the per-part Inception Scores."""
    scores = [s.inception_score() for s in side.splits]
    return float(np.mean(scores)), float(np.std(scores))


def inception_score(real: SideStats, fake: SideStats, ctx: MetricContext) -> Outcome:
    """IS of the fake samples, with the real samples' IS as the reference (Salimans et al.)."""
    mean, std = _split_scores(fake)
    values: Values = {"is": mean, "is_std": std}
    if real.splits:
        values["is_real"] = _split_scores(real)[0]
    return Outcome(values, {"splits": len(fake.splits)}, real.count if real.splits else 0,
                   fake.count)


def mode_score(real: SideStats, fake: SideStats, ctx: MetricContext) -> Outcome:
    """MODE score (Che et al. 2017) from streamed sums, = M.mode_score on the full arrays:
    log MS = log IS_1-split(fake) - KL(p_fake(y) || p_real(y))."""
    if fake.probs_total is None or real.probs_total is None:
        raise GanforgeError("mode score needs class probabilities of both sides")
    p_y, p_star = fake.probs_total.marginal(), real.probs_total.marginal()
    if p_y.shape != p_star.shape:
        raise GanforgeError(f"class counts differ: fake {p_y.shape[0]} vs real {p_star.shape[0]}")
    sharpness = np.log(fake.probs_total.inception_score())
    value = float(np.exp(sharpness - rel_entr(p_y, p_star).sum()))
    return Outcome({"mode_score": value}, {}, real.count, fake.count)


def precision_recall(real: SideStats, fake: SideStats, ctx: MetricContext) -> Outcome:
    """Improved precision and recall (Kynkäänniemi et al. 2019)."""
    a, b = _samples(real, fake)
    precision, recall = M.precision_recall(a, b, k=ctx.params.pr_k)
    return Outcome({"precision": precision, "recall": recall}, {"k": ctx.params.pr_k},
                   len(a), len(b))


def density_coverage(real: SideStats, fake: SideStats, ctx: MetricContext) -> Outcome:
    """Density and coverage (Naeem et al. 2020)."""
    a, b = _samples(real, fake)
    density, coverage = M.density_coverage(a, b, k=ctx.params.dc_k)
    return Outcome({"density": density, "coverage": coverage}, {"k": ctx.params.dc_k},
                   len(a), len(b))


def one_nn(real: SideStats, fake: SideStats, ctx: MetricContext) -> Outcome:
    """Leave-one-out 1-NN two-sample accuracy (Lopez-Paz & Oquab 2017)."""
    a, b = _samples(real, fake)
    total, on_real, on_fake = M.one_nn_accuracy(a, b)
    return Outcome({"1nn": total, "1nn_real": on_real, "1nn_fake": on_fake}, {}, len(a), len(b))


def wasserstein(real: SideStats, fake: SideStats, ctx: MetricContext) -> Outcome:
    """W1 between the feature samples: exact, or sliced beyond 2000 samples (see the method)."""
    a, b = _samples(real, fake)
    method = M.wasserstein_method(min(len(a), len(b)), a.shape[1])
    value = M.wasserstein_distance(a, b, seed=ctx.params.seed)
    return Outcome({"w1": value}, {"method": method}, len(a), len(b))


def _class_modes(real: SideStats, fake: SideStats) -> Outcome:
    """Classes reached and KL(histogram || uniform) under the classifier (Metz et al. 2017)."""
    if fake.class_counts is None:
        raise GanforgeError("mode counts need a feature extractor with class probabilities")
    k = len(fake.class_counts)
    got = M.mode_counts(fake.predicted_labels(), k)
    values: Values = {"modes": got.modes, "num_classes": k, "kl_to_uniform": got.kl_to_uniform}
    if real.class_counts is not None and len(real.class_counts) == k:
        values["modes_real"] = M.mode_counts(real.predicted_labels(), k).modes
    return Outcome(values, {"method": "classifier argmax"}, real.count, fake.count)


def _toy_modes(fake: SideStats) -> Outcome:
    """Modes covered and high-quality share on ring8 / grid25 (VEEGAN / PacGAN protocol)."""
    from ganforge.data import toy_modes

    centres, std = toy_modes(str(fake.source.dataset))
    got = M.toy_coverage(fake.features.samples(), centres, std)
    values: Values = {"modes": got.modes_covered, "num_modes": got.num_modes,
                      "high_quality": got.high_quality}
    params = {"method": "toy coverage", "threshold_std": 3.0, "min_count": got.min_count}
    return Outcome(values, params, 0, fake.count)


def modes(real: SideStats, fake: SideStats, ctx: MetricContext) -> Outcome:
    """Mode counting: toy-mixture coverage for point data, else classifier class counts."""
    if fake.source.kind == "points":
        return _toy_modes(fake)
    return _class_modes(real, fake)


def _classifier_factory(shape: tuple[int, ...], num_classes: int) -> Callable[[], nn.Module]:
    """A fresh domain-classifier CNN for images of `shape`, inputs scaled to [-1, 1]."""
    from ganforge.features.classifier import DomainClassifier

    class Scaled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = DomainClassifier(shape[0], num_classes)

        def forward(self, x: Tensor) -> Tensor:
            return self.net(x / 127.5 - 1.0)

    return Scaled


def gan_train_test(real: SideStats, fake: SideStats, ctx: MetricContext) -> Outcome:
    """GAN-train / GAN-test / GAN-base (Shmelkov et al. 2018) with a fresh small CNN."""
    if not fake.images:
        raise ConfigError(f"gan-train needs labelled samples; {fake.source.name} has no labels "
                          "(use a class-conditional run or a folder of <class>/ subfolders)")
    if not real.images or ctx.real_train is None:
        raise ConfigError("gan-train needs a labelled real dataset with a train split as --real")
    fake_xy = gathered(fake.images), gathered(fake.labels)
    test_xy = gathered(real.images), gathered(real.labels)
    classes = int(max(int(fake_xy[1].max()), int(test_xy[1].max()))) + 1
    make = _classifier_factory(tuple(fake_xy[0].shape[1:]), classes)
    p = ctx.params
    got = M.gan_train_test(make, ctx.real_train(len(fake_xy[0])), test_xy, fake_xy,
                           epochs=p.gan_epochs, seed=p.seed)
    values: Values = {"gan_train": got.gan_train, "gan_test": got.gan_test,
                      "gan_base": got.gan_base}
    return Outcome(values, {"epochs": p.gan_epochs, "classifier": "DomainClassifier (fresh)"},
                   len(test_xy[0]), len(fake_xy[0]))


SAMPLES, PROBS = Needs(samples=True), Needs(probs=True)
METRICS: Registry[MetricDef] = Registry("metric")
METRICS.register("fid", MetricDef("fid", Needs(), fid), "Fréchet distance (Heusel et al. 2017)")
METRICS.register("kid", MetricDef("kid", SAMPLES, kid), "kernel distance (Binkowski et al. 2018)")
METRICS.register("is", MetricDef("is", PROBS, inception_score),
                 "Inception Score of the fakes (Salimans et al. 2016)")
METRICS.register("ms", MetricDef("mode_score", PROBS, mode_score), "MODE score (Che et al. 2017)")
METRICS.register("pr", MetricDef("precision", SAMPLES, precision_recall),
                 "precision and recall (Kynkäänniemi et al. 2019)")
METRICS.register("dc", MetricDef("density", SAMPLES, density_coverage),
                 "density and coverage (Naeem et al. 2020)")
METRICS.register("1nn", MetricDef("1nn", SAMPLES, one_nn),
                 "1-NN two-sample accuracy, 0.5 is best (Lopez-Paz & Oquab 2017)")
METRICS.register("w1", MetricDef("w1", SAMPLES, wasserstein), "Wasserstein-1 between features")
METRICS.register("modes", MetricDef("modes", PROBS, modes, points_needs=SAMPLES),
                 "modes reached: classifier classes, or toy-mixture coverage for points")
METRICS.register("gan-train", MetricDef("gan_train", Needs(images=True), gan_train_test),
                 "GAN-train / GAN-test / GAN-base accuracies (Shmelkov et al. 2018)")


def metric_names(text: str, valid: list[str] | None = None) -> tuple[str, ...]:
    """`fid,kid,is` -> ("fid", "kid", "is"), lower-cased, each once; an empty list fails (with
    the `valid` names when given). The names are not checked: which are valid depends on the
    run (GAN or translation)."""
    names = tuple(dict.fromkeys(t.strip().lower() for t in text.split(",") if t.strip()))
    if not names:
        hint = f"choose from: {', '.join(valid)}" if valid else "name at least one metric"
        raise ConfigError(f"--metrics is empty; {hint}")
    return names


def parse_metrics(text: str) -> tuple[str, ...]:
    """`fid,kid,is` -> ("fid", "kid", "is"); unknown names fail with the valid list."""
    names = metric_names(text, METRICS.names())
    for name in names:
        METRICS.get(name)
    return names


def combined_needs(names: tuple[str, ...], kind: str = "image") -> Needs:
    """The union of the needs of the named metrics on data of `kind` ("image" or "points")."""
    metric_defs = [METRICS.get(n) for n in names]
    defs = [(m.points_needs or m.needs) if kind == "points" else m.needs for m in metric_defs]
    return Needs(samples=any(d.samples for d in defs), probs=any(d.probs for d in defs),
                 images=any(d.images for d in defs))
