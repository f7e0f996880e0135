"""Evaluation of multi-domain translation runs (stargan): what `ganforge eval RUN` does when RUN's
variant is a `MultiTarget` translator.

    report = evaluate_attribute_translation("runs/stargan-celeba", n=500)

Every face of the run's held-out split (the last 10 % of CelebA's rows; or `split`), unflipped,
is translated to every target of the paper's figures, built from its true labels: each hair
colour set exclusively, every other attribute flipped. A committed attribute classifier judges
the outputs (celeba: celeba-classifier, whose held-out accuracy, in classifiers.json, is the
ceiling of these figures); outputs are rounded to 8 bits first, as saved PNGs.

  success_<attr>   share of translations the classifier reads with the target value of <attr>
                   (a hair colour: present; another attribute: flipped); `success` the mean
  preservation     share of (translation, attribute) pairs whose attribute was not asked to
                   change (judged attributes only) that the classifier reads as it reads the
                   input face
  reconstruction   L1 in [0, 1] of G(G(x, c_target), c_own) against x, mean and std
  fid, kid         the classifier's features of all translations against those of the real
                   faces of the split
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from ganforge import metrics as M
from ganforge.data import load_dataset
from ganforge.data.dataset import to_unit_range
from ganforge.data.multidomain import MultiDomainImages
from ganforge.errors import ConfigError
from ganforge.evaluation.record import EvalReport, MetricResult, Provenance
from ganforge.evaluation.sources import to_uint8
from ganforge.evaluation.translation import (
    PIXEL_RANGE,
    Tally,
    TranslationOptions,
    check_metrics,
    index_batches,
    mean_std,
    unit,
)
from ganforge.features.classifier import ClassifierExtractor, read_manifest
from ganforge.metrics import FeatureStats
from ganforge.variants.base import MultiTarget

if TYPE_CHECKING:
    from ganforge.api import Run

#: Attribute data -> the committed classifier that reads its attributes.
ATTRIBUTE_CLASSIFIERS = {"celeba": "celeba-classifier"}
METRICS = ("success", "preservation", "reconstruction", "fid", "kid")
JUDGED = ("success", "preservation", "fid", "kid")  # what needs the classifier


@dataclass
class Setup:
    """One evaluation: the run, its split, the classifier and what it judges."""

    run: Run
    data: MultiDomainImages
    split: str
    metrics: tuple[str, ...]
    options: TranslationOptions
    judge: ClassifierExtractor | None = None
    judged: dict[int, int] = field(default_factory=dict)  # label index -> classifier column
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def variant(self) -> MultiTarget:
        assert isinstance(self.run.variant, MultiTarget)
        return self.run.variant


def _judge(setup: Setup, device: str) -> None:
    """The classifier and the attributes it reads; the metrics it cannot give are skipped
    (an error when asked for by name)."""
    name = ATTRIBUTE_CLASSIFIERS.get(setup.data.name)
    why = f"no attribute classifier for {setup.data.name} (there is one for celeba)"
    if name is not None:
        classes = [str(c) for c in read_manifest().get(name, {}).get("classes", [])]
        labels = setup.variant.labels.names
        setup.judged = {i: classes.index(a) for i, a in enumerate(labels) if a in classes}
        why = f"{name} reads none of {', '.join(labels)}"
        if setup.judged:
            setup.judge = ClassifierExtractor(name, device)
    if setup.judge is None:
        for metric in (m for m in JUDGED if m in setup.metrics):
            if setup.options.metrics is not None:
                raise ConfigError(f"cannot compute {metric} for this run: {why}")
            setup.skipped[metric] = why
        setup.metrics = tuple(m for m in setup.metrics if m not in setup.skipped)


def prepare(run: Run | str | os.PathLike[str], split: str, device: str,
            options: TranslationOptions) -> Setup:
    """Load the run and its split, check the metrics, load the classifier."""
    from ganforge.api import Run, load_run

    loaded = run if isinstance(run, Run) else load_run(Path(run), device)
    if not isinstance(loaded.variant, MultiTarget):
        raise ConfigError(f"run '{loaded.dir.root}' ({loaded.config.model}) has no target labels")
    cfg = loaded.config
    data = load_dataset(cfg.data, split=split, data_dir=options.data_dir or cfg.data_dir,
                        image_size=cfg.image_size, channels=cfg.channels, seed=cfg.seed)
    if not isinstance(data, MultiDomainImages):
        raise ConfigError(f"run '{loaded.dir.root}' was trained on {cfg.data}, which is not "
                          "multi-domain data")
    metrics = check_metrics(options.metrics, METRICS, f"multi-domain translation ({cfg.model})")
    setup = Setup(loaded, data, split, metrics, options)
    _judge(setup, device)
    return setup


def _read(setup: Setup, images8: Tensor) -> Tensor:
    """The classifier's 0/1 reading of the judged attributes, (B, J) bool, label order."""
    assert setup.judge is not None
    probs = torch.from_numpy(setup.judge.probs(images8))  # (B, 5)
    return probs[:, list(setup.judged.values())] > 0.5


def score_column(setup: Setup, tally: Tally, j: int, target: Tensor, c: Tensor,
                 fake8: Tensor, read_in: Tensor | None) -> None:
    """Success of column j's attribute and preservation of the attributes left alone."""
    if setup.judge is None or read_in is None:
        return
    read = _read(setup, fake8)  # (B, J)
    columns = list(setup.judged)
    if j in setup.judged:
        k = columns.index(j)
        tally.add({f"success_{j}": (read[:, k] == target[:, j].bool().cpu()).double()})
    unchanged = (target[:, columns] == c[:, columns]).cpu()  # (B, J): not asked to change
    kept = (read == read_in)[unchanged]
    if kept.numel():
        tally.add({"preservation": kept.double()})


def score_batch(setup: Setup, tally: Tally, idx: Tensor) -> None:
    """Translate one batch of faces to every target and score each column."""
    run, v = setup.run, setup.variant
    batch = setup.data.make_batch(idx, run.device)  # unflipped
    x8, c = setup.data.images[idx], v.labels.of_batch(batch)
    read_in = _read(setup, x8) if setup.judge is not None else None
    for j, target in enumerate(v.labels.column_targets(c)):
        fake = v.translate(batch.x, run.nets, labels=target)
        fake8 = to_uint8(fake.cpu())
        back = v.translate(to_unit_range(fake8, run.device), run.nets, labels=c)
        tally.add({"reconstruction": M.l1_error(unit(to_uint8(back.cpu())), unit(x8))})
        score_column(setup, tally, j, target, c, fake8, read_in)
        if tally.features is not None and setup.judge is not None:
            tally.features.update(setup.judge.features(fake8))
    if tally.real is not None and setup.judge is not None:
        tally.real.update(setup.judge.features(x8))
    tally.count += len(idx)


def _provenance(setup: Setup, scorer: str, batch_size: int, device: str) -> Provenance:
    j = setup.judge
    features, sha, resize = ((j.name, j.weights_sha256, j.resize_method) if scorer == "judge"
                             and j is not None else ("pixels", None, "none"))
    return Provenance(features, sha, resize, f"{setup.data.name}:{setup.split}", setup.split,
                      f"run:{setup.run.dir.root}", setup.options.seed, batch_size, device)


def _rows(setup: Setup, tally: Tally) -> list[tuple[str, str, dict[str, float | int],
                                                   dict[str, object], int, int, str]]:
    """(name, primary, values, params, n_real, n_fake, scorer) of every result."""
    names, n, t = setup.variant.target_names(), tally.count, len(setup.variant.target_names())
    rows: list[tuple[str, str, dict[str, float | int], dict[str, object], int, int, str]] = []
    if "success" in setup.metrics:
        per = {names[j]: float(tally.get(f"success_{j}").mean()) for j in setup.judged}
        rows += [(f"success_{k}", "success", {"success": v}, {"target": k}, 0, n, "judge")
                 for k, v in per.items()]
        rows.append(("success", "success", {"success": sum(per.values()) / len(per)},
                     {"targets": list(per)}, 0, n * len(per), "judge"))
    if "preservation" in setup.metrics:
        kept = tally.get("preservation")
        rows.append(("preservation", "preservation", {"preservation": float(kept.mean())},
                     {"pairs": len(kept)}, 0, n * t, "judge"))
    if "reconstruction" in setup.metrics:
        rows.append(("reconstruction", "reconstruction_l1", mean_std(
            "reconstruction_l1", tally.get("reconstruction")), {"range": PIXEL_RANGE}, n, n * t,
            "pixels"))
    return rows + _feature_rows(setup, tally)


def _feature_rows(setup: Setup, tally: Tally) -> list[tuple[str, str, dict[str, float | int],
                                                           dict[str, object], int, int, str]]:
    """FID and KID of all translations against the split's real faces."""
    real, fake, o = tally.real, tally.features, setup.options
    if real is None or fake is None:
        return []
    out: list[tuple[str, str, dict[str, float | int], dict[str, object], int, int, str]] = []
    if "fid" in setup.metrics:
        value = M.frechet_distance_from_stats(real.mean(), real.cov(), fake.mean(), fake.cov())
        out.append(("fid", "fid", {"fid": value}, {}, real.count, fake.count, "judge"))
    if "kid" in setup.metrics:
        a, b = real.samples(), fake.samples()
        mean, std = M.kernel_inception_distance(a, b, o.kid_subsets, o.kid_subset_size, o.seed)
        out.append(("kid", "kid", {"kid": mean, "kid_std": std},
                    {"subsets": o.kid_subsets, "subset_size": min(o.kid_subset_size, len(a),
                                                                  len(b))},
                    len(a), len(b), "judge"))
    return out


def evaluate_attribute_translation(run: Run | str | os.PathLike[str], split: str = "test",
                                   n: int | None = None, batch_size: int = 16,
                                   device: str = "cpu",
                                   options: TranslationOptions | None = None) -> EvalReport:
    """Score a multi-domain translation run on `n` faces (None: all) of its data's `split`
    (see the module's docstring)."""
    start = time.perf_counter()
    setup = prepare(run, split, device, options or TranslationOptions())
    feats = setup.judge is not None and {"fid", "kid"} & set(setup.metrics)
    keep = setup.options.max_samples if "kid" in setup.metrics else 0
    tally = Tally(FeatureStats(keep, setup.options.seed + 1) if feats else None,
                  FeatureStats(keep, setup.options.seed + 2) if feats else None)
    for idx in index_batches(len(setup.data), n, batch_size, setup.options.seed):
        score_batch(setup, tally, idx)
    results = [MetricResult(name, float(values[primary]), primary, values, params, n_real,
                            n_fake, _provenance(setup, scorer, batch_size, device))
               for name, primary, values, params, n_real, n_fake, scorer in _rows(setup, tally)]
    extra = {"task": "multi-domain", "model": setup.run.config.model, "data": setup.data.name,
             "split_rule": setup.data.split_rule, "targets": setup.variant.target_names(),
             "image_size": int(setup.data.images.shape[-1]), "metrics": list(setup.metrics)}
    return EvalReport(results, _provenance(setup, "judge", batch_size, device), tally.count,
                      tally.count * len(setup.variant.target_names()),
                      time.perf_counter() - start, extra, dict(setup.skipped))
