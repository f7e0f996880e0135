"""The evaluation pipeline: pick the sources and the extractor, stream both sides once, run the
metrics on what was accumulated, and wrap every value with its provenance.

    report = evaluate_run("runs/dcgan-mnist", EvalOptions(metrics=("fid", "kid"), n=10_000))
    print(report.table())
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from torch import Tensor

from ganforge.data import InMemoryDataset, load_dataset
from ganforge.data.registry import FOLDER_PREFIX
from ganforge.errors import ConfigError, GanforgeError
from ganforge.evaluation.accumulate import accumulate
from ganforge.evaluation.metrics import (
    METRICS,
    MetricContext,
    MetricParams,
    combined_needs,
)
from ganforge.evaluation.record import EvalReport, Provenance, make_result
from ganforge.evaluation.sources import (
    DatasetSource,
    FolderSource,
    RunSource,
    SampleSource,
    subset,
)
from ganforge.evaluation.translation import TranslationOptions, evaluate_translation
from ganforge.features import Extractor, default_extractor, make_extractor
from ganforge.variants.base import MultiTarget, Translator

if TYPE_CHECKING:
    from ganforge.api import Run

IMAGE_METRICS = ("fid", "kid", "is", "pr", "dc")
TOY_WITH_MODES = ("ring8", "grid25", "gauss1d")


@dataclass(frozen=True)
class EvalOptions:
    """Everything `ganforge eval` can be told; `metrics=None` picks defaults for the data."""

    metrics: tuple[str, ...] | None = None
    n: int = 10_000
    features: str | None = None
    inception_weights: str | None = None
    batch_size: int = 100
    seed: int = 0
    device: str = "cpu"
    max_samples: int = 10_000  # cap on the raw features kept for sample-based metrics
    is_splits: int = 10
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    pr_k: int = 3
    dc_k: int = 5
    gan_epochs: int = 5

    def metric_params(self) -> MetricParams:
        """The metric knobs, as the metrics read them."""
        names = {f.name for f in fields(MetricParams)}
        return MetricParams(**{k: getattr(self, k) for k in names})


def default_metrics(kind: str, dataset: str | None) -> tuple[str, ...]:
    """Images: FID, KID, IS, P/R, D/C. Toy points: FID, W1, P/R, D/C and modes if discrete."""
    if kind != "points":
        return IMAGE_METRICS
    return ("fid", "w1", "pr", "dc") + (("modes",) if dataset in TOY_WITH_MODES else ())


def _check(options: EvalOptions) -> None:
    """One-line errors for impossible options."""
    for name in ("n", "batch_size", "max_samples"):
        if getattr(options, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1, "
                              f"got {getattr(options, name)}")
    for name in options.metrics or ():
        METRICS.get(name)


def _real_train(real: SampleSource, seed: int) -> Callable[[int], tuple[Tensor, Tensor]] | None:
    """For GAN-train: a function giving `m` seeded labelled images of the real train split."""
    if not isinstance(real, DatasetSource) or real.reload is None or real.split == "train":
        return None
    reload = real.reload

    def take(m: int) -> tuple[Tensor, Tensor]:
        data = reload("train")
        idx = subset(len(data), m, seed)
        assert data.labels is not None
        return data.data[idx], data.labels[idx]

    return take


def evaluate(fake: SampleSource, real: SampleSource, options: EvalOptions) -> EvalReport:
    """Compare `fake` with `real` on the requested metrics (the core of `ganforge eval`)."""
    _check(options)
    if fake.kind != real.kind:
        raise ConfigError(f"cannot compare {fake.kind} samples ({fake.name}) with {real.kind} "
                          f"data ({real.name})")
    metrics = options.metrics or default_metrics(fake.kind, real.dataset or fake.dataset)
    name = options.features or default_extractor(real.dataset or fake.dataset, fake.kind)
    extractor = make_extractor(name, options.device, options.inception_weights)
    _check_capabilities(metrics, extractor, fake)
    start = time.perf_counter()
    needs = combined_needs(metrics, fake.kind)
    stream = partial(accumulate, extractor=extractor, needs=needs, n=options.n,
                     batch_size=options.batch_size, seed=options.seed,
                     max_samples=options.max_samples, is_splits=options.is_splits)
    real_stats, fake_stats = stream(real), stream(fake)
    ctx = MetricContext(options.metric_params(), _real_train(real, options.seed))
    prov = Provenance(extractor.name, extractor.weights_sha256, extractor.resize_method,
                      real.name, real.split, fake.name, options.seed, options.batch_size,
                      options.device)
    results = [make_result(m, METRICS.get(m).primary,
                           METRICS.get(m).compute(real_stats, fake_stats, ctx), prov)
               for m in metrics]
    extra = {"real_shape": list(real_stats.shape), "fake_shape": list(fake_stats.shape),
             "max_samples": options.max_samples}
    return EvalReport(results, prov, real_stats.count, fake_stats.count,
                      time.perf_counter() - start, extra)


def _check_capabilities(metrics: tuple[str, ...], extractor: Extractor, fake: SampleSource) -> None:
    """Refuse, before any work, metrics the extractor or the samples cannot support."""
    probs_metrics = [m for m in metrics if METRICS.get(m).needs.probs]
    if fake.kind == "points":
        probs_metrics = [m for m in probs_metrics if m != "modes"]
        if "modes" in metrics and fake.dataset not in TOY_WITH_MODES:
            raise ConfigError(f"modes on points needs a toy set with discrete modes "
                              f"({', '.join(TOY_WITH_MODES)}), not {fake.dataset}")
    if probs_metrics and not extractor.has_probs:
        raise ConfigError(f"metrics {', '.join(probs_metrics)} need class probabilities, which "
                          f"feature extractor '{extractor.name}' does not give; use "
                          "--features mnist-classifier, fashion-classifier or inception")


def dataset_source(name: str, split: str, data_dir: str | None = None,
                   image_size: int | None = None, channels: int | None = None,
                   seed: int = 0) -> DatasetSource:
    """A named dataset split as a source (it can reload its other splits for GAN-train)."""

    def reload(which: str) -> InMemoryDataset:
        data = load_dataset(name, split=which, data_dir=data_dir, image_size=image_size,
                            channels=channels, seed=seed)
        if not isinstance(data, InMemoryDataset):  # two image domains, not one set of samples
            raise ConfigError(f"'{name}' is translation data; evaluating against it is not "
                              "supported yet")
        return data

    return DatasetSource(reload(split), split, reload)


def real_source(spec: str, split: str = "test", data_dir: str | None = None,
                image_size: int | None = None, channels: int | None = None,
                seed: int = 0) -> SampleSource:
    """--real: a folder (a path, or folder:PATH) or a dataset name with its split."""
    path = spec[len(FOLDER_PREFIX):] if spec.startswith(FOLDER_PREFIX) else spec
    looks_like_path = spec.startswith(FOLDER_PREFIX) or "/" in spec or Path(spec).exists()
    if looks_like_path:
        return FolderSource(path, channels, image_size, what="--real folder")
    return dataset_source(spec, split, data_dir, image_size, channels, seed)


def _channels(source: SampleSource) -> int | None:
    """Channel count of a source's images (None when unknown or points)."""
    if isinstance(source, FolderSource):
        return source.channels
    if isinstance(source, DatasetSource) and source.kind == "image":
        return int(source.data.data.shape[1])
    return None


def evaluate_folders(fake: str, real: str, options: EvalOptions, split: str = "test",
                     data_dir: str | None = None) -> EvalReport:
    """Images in folder `fake` against `real` (a dataset name or a folder), as `eval --fake`."""
    reference = real_source(real, split, data_dir, seed=options.seed)
    generated = FolderSource(fake, channels=_channels(reference), what="--fake folder")
    return evaluate(generated, reference, options)


def translation_options(options: EvalOptions, data_dir: str | None) -> TranslationOptions:
    """The options of `eval RUN` that a translation run reads."""
    return TranslationOptions(options.metrics, options.features, options.inception_weights,
                              options.seed, options.max_samples, options.kid_subsets,
                              options.kid_subset_size, data_dir)


def evaluate_translation_run(run: Run, options: EvalOptions, real: str | None,
                             split: str | None, data_dir: str | None) -> EvalReport:
    """`eval RUN` on a run whose variant translates: scored on its own dataset's split."""
    if real is not None:
        raise ConfigError(f"--real does not apply to translation runs: {run.config.model} is "
                          f"scored on its own dataset ({run.config.data}); choose the split with "
                          "--split")
    return evaluate_translation(run, split or "test", options.n, options.batch_size,
                                options.device, translation_options(options, data_dir))


def evaluate_multi_target_run(run: Run, options: EvalOptions, real: str | None,
                              split: str | None, data_dir: str | None) -> EvalReport:
    """`eval RUN` on a multi-domain translation run (stargan): its own data's held-out faces."""
    from ganforge.evaluation.attribute_translation import evaluate_attribute_translation

    if real is not None:
        raise ConfigError(f"--real does not apply to {run.config.model} runs: they are scored on "
                          f"their own dataset ({run.config.data}); choose the split with --split")
    return evaluate_attribute_translation(run, split or "test", options.n, options.batch_size,
                                          options.device, translation_options(options, data_dir))


def evaluate_run(run: str, options: EvalOptions, real: str | None = None,
                 split: str | None = None, data_dir: str | None = None) -> EvalReport:
    """A run's generator against its dataset's test split (or `real`), as `eval RUN`; a run
    whose variant is a `Translator` goes to `evaluate_translation`."""
    from ganforge.api import load_run

    loaded = load_run(Path(run), options.device)
    if isinstance(loaded.variant, MultiTarget):
        return evaluate_multi_target_run(loaded, options, real, split, data_dir)
    if isinstance(loaded.variant, Translator):
        return evaluate_translation_run(loaded, options, real, split, data_dir)
    _check(options)
    generated = RunSource(run, options.device, loaded)
    cfg = generated.run.config
    if real is None:
        folder_data = cfg.data.startswith(FOLDER_PREFIX)
        split = split or ("train" if folder_data else "test")
        reference: SampleSource = dataset_source(
            cfg.data, split, data_dir or cfg.data_dir, cfg.image_size, cfg.channels, options.seed)
    else:
        reference = real_source(real, split or "test", data_dir, cfg.image_size, cfg.channels,
                                options.seed)
    if generated.kind == "image" and tuple(generated.run.spec.shape[:1]) != (
            _channels(reference),):
        raise GanforgeError(f"{generated.name} makes {generated.run.spec.shape[0]}-channel "
                            f"images but {reference.name} has {_channels(reference)}")
    return evaluate(generated, reference, options)
