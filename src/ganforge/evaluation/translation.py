"""Evaluation of image-to-image translation runs: what `ganforge eval RUN` does when RUN's
variant is a `Translator` (pix2pix, cyclegan) that maps images instead of sampling noise.

    report = evaluate_translation("runs/pix2pix-facades", n=50)
    print(report.table()); report.write_json("eval.json")

The run's exported networks translate its dataset's test split (or `split`), centre-cropped to
the run's image size and unflipped (as the previews), in batches, in every direction the variant
goes. Outputs are rounded to 8 bits, as when saved as PNG (the GAN pipeline does the same), and
every pixel metric reads images in [0, 1] with data_range 1: the values equal scikit-image's on
the 8-bit images with data_range 255, and L1 is half the [-1, 1] L1 of the training log.

Paired data (pix2pix; any run on paired data), output against its target, per direction:
  l1, psnr, ssim   per image, mean and std (population) over the split; PSNR averages the images
                   that differ from their target and counts the identical ones (+inf) apart
  sharpness        mean variance of the Laplacian of the outputs / that of the targets: below 1
                   for blurry outputs (an L1-only pix2pix), 1 for real photos
Unpaired data (cyclegan), per direction:
  success          share of translations a domain classifier assigns to the target domain
                   (horse2zebra: zebra-classifier, whose mean probability of the target domain
                   is given too, as `target_prob`; mnist-style: the border rule of digits_task,
                   plus class preservation by the MNIST classifier)
  fid, kid         translations against the real target-domain images of the split, on the
                   domain classifier's features (mnist-style: mnist-classifier), else Inception
Either, when the translator goes both ways:
  cycle            L1 of a -> b -> a against a (cycle_a) and of b -> a -> b against b (cycle_b)

Results are named `<metric>_ab` / `<metric>_ba` (A -> B, B -> A of the loaded data, whose
direction is the run's) and `cycle_a` / `cycle_b`; each carries its provenance.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from ganforge import metrics as M
from ganforge.data import load_dataset
from ganforge.data.dataset import to_unit_range
from ganforge.data.translation import PairedImages, UnpairedImages, crop_windows, take_windows
from ganforge.errors import ConfigError
from ganforge.evaluation.record import EvalReport, MetricResult, Provenance
from ganforge.evaluation.sources import subset, to_uint8
from ganforge.evaluation.translation_judges import Judge, make_features, make_judge
from ganforge.features import Extractor
from ganforge.metrics import FeatureStats
from ganforge.variants.base import Translator

if TYPE_CHECKING:
    from ganforge.api import Run

PAIRED, UNPAIRED = "paired", "unpaired"
DATA_RANGE = 1.0  # pixel metrics read 8-bit images scaled to [0, 1]
PIXEL_RANGE = "[0, 1]"
REVERSE = {"AtoB": "BtoA", "BtoA": "AtoB"}
Values = dict[str, float | int]
TranslationData = PairedImages | UnpairedImages


@dataclass(frozen=True)
class TranslationMetric:
    """A metric of translation runs: the pairings it applies to, whether it needs both ways."""

    pairings: tuple[str, ...]
    help: str
    both_ways: bool = False


#: Every translation metric, in the order of the report.
TRANSLATION_METRICS: dict[str, TranslationMetric] = {
    "l1": TranslationMetric((PAIRED,), "mean absolute error of output vs target, [0, 1]"),
    "psnr": TranslationMetric((PAIRED,), "PSNR of output vs target, dB, data_range 1"),
    "ssim": TranslationMetric((PAIRED,), "SSIM of output vs target (Wang et al. 2004)"),
    "sharpness": TranslationMetric((PAIRED,), "variance of the Laplacian, outputs / targets"),
    "success": TranslationMetric((UNPAIRED,), "share judged to be in the target domain"),
    "fid": TranslationMetric((UNPAIRED,), "FID of translations vs real target-domain images"),
    "kid": TranslationMetric((UNPAIRED,), "KID of translations vs real target-domain images"),
    "cycle": TranslationMetric((PAIRED, UNPAIRED), "L1 of a -> b -> a vs a, b -> a -> b vs b",
                               both_ways=True),
}

@dataclass(frozen=True)
class TranslationOptions:
    """What a translation evaluation can be told besides the split, count, batch and device."""

    metrics: tuple[str, ...] | None = None  # None: every metric that applies and can be computed
    features: str | None = None  # FID/KID extractor (default: DEFAULT_FEATURES, else inception)
    inception_weights: str | None = None
    seed: int = 0  # seeded subsets when n is below a domain's size; KID subsets
    max_samples: int = 10_000  # features kept per side for KID
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    data_dir: str | None = None  # where the run's dataset is (default: the run's --data-dir)


def applicable_metrics(pairing: str, directions: tuple[str, ...]) -> tuple[str, ...]:
    """The metrics of data of `pairing` translated in `directions`, in report order."""
    both = {"AtoB", "BtoA"} <= set(directions)
    return tuple(name for name, m in TRANSLATION_METRICS.items()
                 if pairing in m.pairings and (both or not m.both_ways))


def check_metrics(requested: tuple[str, ...] | None, valid: tuple[str, ...],
                  what: str) -> tuple[str, ...]:
    """`requested` (None: all of `valid`); a name not in `valid` fails listing the valid ones."""
    if requested is None:
        return valid
    for name in requested or ("",):
        if name not in valid:
            shown = f"metric '{name}' does not apply to" if name else "no metric named for"
            raise ConfigError(f"{shown} {what}; choose from: {', '.join(valid)}")
    return tuple(dict.fromkeys(requested))


# --- what is evaluated --------------------------------------------------------------------------


@dataclass(frozen=True)
class Way:
    """One direction through the translator, on the loaded split."""

    direction: str  # "AtoB" or "BtoA" of the loaded data
    source: Tensor  # uint8 (N, C, L, L): what the translator reads
    target: Tensor  # uint8 images of the target domain (aligned with source when paired)
    labels: Tensor | None  # class labels of the source images (mnist-style)
    source_domain: str
    target_domain: str

    @property
    def suffix(self) -> str:
        """"ab" or "ba", the suffix of this direction's result names."""
        return "ab" if self.direction == "AtoB" else "ba"


def way_of(data: TranslationData, direction: str) -> Way:
    """The source and target images (and source labels) of `direction` on `data`."""
    labels_a, labels_b = ((data.labels_a, data.labels_b) if isinstance(data, UnpairedImages)
                          else (None, None))
    a_name, b_name = data.domains
    if direction == "AtoB":
        return Way(direction, data.a, data.b, labels_a, a_name, b_name)
    return Way(direction, data.b, data.a, labels_b, b_name, a_name)


@dataclass
class Setup:
    """One evaluation: the run, its data, the metrics and who scores them."""

    run: Run
    translator: Translator
    data: TranslationData
    split: str
    n: int | None
    batch_size: int
    device: torch.device  # of the judge and the feature extractor
    options: TranslationOptions
    metrics: tuple[str, ...]
    judge: Judge | None = None
    extractor: Extractor | None = None
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def pairing(self) -> str:
        """"paired" or "unpaired"."""
        return PAIRED if isinstance(self.data, PairedImages) else UNPAIRED

    @property
    def what(self) -> str:
        """The run in words, for errors: "paired translation (pix2pix on facades)"."""
        return f"{self.pairing} translation ({self.run.config.model} on {self.data.name})"


def load_translation_run(run: Run | str | os.PathLike[str], device: str) -> Run:
    """`run` itself, or the run folder loaded; a run that does not translate is an error."""
    from ganforge.api import Run, load_run

    loaded = run if isinstance(run, Run) else load_run(Path(run), device)
    if not isinstance(loaded.variant, Translator):
        raise ConfigError(f"run '{loaded.dir.root}' ({loaded.config.model}) does not translate "
                          "images; evaluate it with ganforge.evaluation.evaluate_run")
    if not set(loaded.variant.directions) <= set(REVERSE):
        raise ConfigError(f"{loaded.config.model} translates {loaded.variant.directions}; "
                          f"translation evaluation knows {', '.join(REVERSE)}")
    return loaded


def load_split(run: Run, split: str, data_dir: str | None) -> TranslationData:
    """The run's dataset, split `split`, loaded as for training (size, channels, direction)."""
    cfg = run.config
    data = load_dataset(cfg.data, split=split, data_dir=data_dir or cfg.data_dir,
                        image_size=cfg.image_size, channels=cfg.channels, seed=cfg.seed,
                        direction=cfg.direction)
    if not isinstance(data, PairedImages | UnpairedImages):
        raise ConfigError(f"run '{run.dir.root}' was trained on {cfg.data}, which is not "
                          "translation data")
    return data


def _check_counts(n: int | None, batch_size: int) -> None:
    """One-line errors for a count or batch size below 1."""
    for flag, value in (("--n", n), ("--batch-size", batch_size)):
        if value is not None and value < 1:
            raise ConfigError(f"{flag} must be at least 1, got {value}")


def prepare(run: Run | str | os.PathLike[str], split: str, n: int | None, batch_size: int,
            device: str, options: TranslationOptions) -> Setup:
    """Load the run and its split, check the metrics, build the judge and the extractor."""
    _check_counts(n, batch_size)
    loaded = load_translation_run(run, device)
    assert isinstance(loaded.variant, Translator)
    data = load_split(loaded, split, options.data_dir)
    setup = Setup(loaded, loaded.variant, data, split, n, batch_size, torch.device(device),
                  options, ())
    setup.metrics = check_metrics(options.metrics, applicable_metrics(
        setup.pairing, tuple(loaded.variant.directions)), setup.what)
    _build_scorers(setup)
    return setup


def _build_scorers(setup: Setup) -> None:
    """The judge and the extractor the metrics need; a metric that cannot be computed is skipped
    with its reason by default, and an error when it was asked for by name."""
    missing: dict[str, str] = {}
    if "success" in setup.metrics:
        setup.judge, why = make_judge(setup.data.name, setup.device)
        if setup.judge is None:
            missing["success"] = why
    wanted = [m for m in ("fid", "kid") if m in setup.metrics]
    if wanted:
        o = setup.options
        setup.extractor, why = make_features(setup.data.name, o.features, o.inception_weights,
                                             setup.device)
        missing.update(dict.fromkeys(wanted, why) if setup.extractor is None else {})
    for metric, why in missing.items():
        if setup.options.metrics is not None:
            raise ConfigError(f"cannot compute {metric} for this run: {why}")
        setup.skipped[metric] = why
    setup.metrics = tuple(m for m in setup.metrics if m not in setup.skipped)
    if not setup.metrics:
        reasons = "; ".join(f"{m}: {why}" for m, why in setup.skipped.items())
        raise ConfigError(f"no metric can be computed for this {setup.what}: {reasons}")


# --- one pass per direction ---------------------------------------------------------------------


@dataclass
class Tally:
    """What one direction's pass gathered: per-image values by key, the outputs' features and
    those of the real target-domain images."""

    features: FeatureStats | None = None
    real: FeatureStats | None = None
    values: dict[str, list[Tensor]] = field(default_factory=dict)
    count: int = 0

    def add(self, values: dict[str, Tensor]) -> None:
        """Append a batch of per-image values (B,) for each key."""
        for key, v in values.items():
            self.values.setdefault(key, []).append(v.detach().to("cpu", torch.float64))

    def get(self, key: str) -> Tensor:
        """All per-image values of `key`, (count,)."""
        return torch.cat(self.values[key])


def index_batches(total: int, n: int | None, batch_size: int, seed: int) -> Iterator[Tensor]:
    """Indices of `n` of `total` images (all, in order, when n is None or >= total; else a
    seeded sorted subset), `batch_size` at a time."""
    yield from subset(total, total if n is None else n, seed).split(batch_size)


def centre_crops(images: Tensor, idx: Tensor, crop: int) -> Tensor:
    """Centre crops (n, C, crop, crop) of uint8 images[idx], unflipped."""
    win = crop_windows(len(idx), int(images.shape[-1]), crop, False, None)
    return take_windows(images, idx, win, crop)


def unit(images: Tensor) -> Tensor:
    """uint8 images as float64 in [0, 1], the range of every pixel metric here."""
    return images.to(torch.float64) / 255.0


def pixel_values(out8: Tensor, target8: Tensor, metrics: tuple[str, ...]) -> dict[str, Tensor]:
    """Per-image values (B,) of the paired pixel metrics among `metrics`, on [0, 1]."""
    fake, real = unit(out8), unit(target8)
    values: dict[str, Tensor] = {}
    if "l1" in metrics:
        values["l1"] = M.l1_error(fake, real)
    if "psnr" in metrics:
        values["psnr"] = M.psnr(fake, real, DATA_RANGE)
    if "ssim" in metrics:
        values["ssim"] = M.ssim(fake, real, DATA_RANGE)
    if "sharpness" in metrics:
        values["laplacian"] = M.laplacian_variance(fake)
        values["laplacian_real"] = M.laplacian_variance(real)
    return values


def new_features(setup: Setup, available: int) -> FeatureStats | None:
    """Feature statistics for FID (moments) and KID (a reservoir), when they are wanted."""
    if setup.extractor is None:
        return None
    planned = min(available, setup.n or available)
    keep = min(planned, setup.options.max_samples) if "kid" in setup.metrics else 0
    return FeatureStats(keep, seed=setup.options.seed + 1)


def translate(setup: Setup, images: Tensor, direction: str) -> Tensor:
    """The run's exported networks on images in [-1, 1] (on the networks' device)."""
    return setup.translator.translate(images.to(setup.run.device), setup.run.nets, direction)


def score_batch(setup: Setup, way: Way, tally: Tally, idx: Tensor, x8: Tensor,
                out: Tensor) -> None:
    """Add one batch's values: pixel metrics, the judge's verdicts, features, cycle L1."""
    out8 = to_uint8(out.cpu())  # (B, C, H, W) uint8, as a saved PNG
    if setup.pairing == PAIRED:
        tally.add(pixel_values(out8, centre_crops(way.target, idx, setup.data.crop),
                               setup.metrics))
    if setup.judge is not None:
        labels = None if way.labels is None else way.labels[idx]
        tally.add(setup.judge.score(out8, way.target_domain, labels))
    if tally.features is not None and setup.extractor is not None:
        tally.features.update(setup.extractor.features(out8))
    if "cycle" in setup.metrics:
        back = translate(setup, out, REVERSE[way.direction])  # from the float translation
        tally.add({"cycle": M.l1_error(unit(to_uint8(back.cpu())), unit(x8))})


def run_way(setup: Setup, way: Way) -> Tally:
    """Translate the split's source images of `way` in batches and score every batch."""
    tally = Tally(new_features(setup, len(way.source)))
    o = setup.options
    for idx in index_batches(len(way.source), setup.n, setup.batch_size, o.seed):
        x8 = centre_crops(way.source, idx, setup.data.crop)  # (B, C, crop, crop) uint8
        out = translate(setup, to_unit_range(x8, setup.run.device), way.direction)
        score_batch(setup, way, tally, idx, x8, out)
        tally.count += len(idx)
    if tally.features is not None:
        tally.real = real_features(setup, way)
    return tally


def reference_count(setup: Setup, tally: Tally) -> int:
    """Real images one direction's translations were compared with: the real target-domain
    images of FID/KID, else one target (paired) or source (cycle) per translation, else 0."""
    if tally.real is not None:
        return tally.real.count
    return tally.count if setup.pairing == PAIRED or "cycle" in setup.metrics else 0


def real_features(setup: Setup, way: Way) -> FeatureStats:
    """Features of the split's real images of `way`'s target domain (n of them at most)."""
    stats = new_features(setup, len(way.target))
    assert stats is not None and setup.extractor is not None
    o = setup.options
    for idx in index_batches(len(way.target), setup.n, setup.batch_size, o.seed):
        stats.update(setup.extractor.features(centre_crops(way.target, idx, setup.data.crop)))
    return stats


# --- results ------------------------------------------------------------------------------------


def mean_std(key: str, v: Tensor) -> Values:
    """{key: mean, key_std: population std} of per-image values."""
    return {key: float(v.mean()), f"{key}_std": float(v.std(correction=0))}


def psnr_values(v: Tensor) -> Values:
    """Mean and std of the finite PSNRs and the count of identical images (+inf), kept apart so
    that one perfect image does not make the mean infinite; +inf when every image is identical."""
    finite = v[torch.isfinite(v)]
    identical = len(v) - len(finite)
    if len(finite) == 0:
        return {"psnr": math.inf, "psnr_std": 0.0, "identical": identical}
    return {**mean_std("psnr", finite), "identical": identical}


def sharpness_values(tally: Tally) -> Values:
    """Mean Laplacian variance of outputs and of targets, and their ratio (1: as sharp)."""
    fake, real = float(tally.get("laplacian").mean()), float(tally.get("laplacian_real").mean())
    ratio = fake / real if real > 0 else math.nan
    return {"sharpness": ratio, "laplacian_var": fake, "laplacian_var_real": real}


@dataclass(frozen=True)
class Row:
    """One result before its provenance: name, headline key, values, parameters, counts."""

    name: str
    primary: str
    values: Values
    params: dict[str, Any]
    n_real: int
    n_fake: int
    scorer: str  # "pixels", "judge" or "features": whose provenance it carries


def pixel_rows(metric: str, way: Way, tally: Tally) -> list[Row]:
    """The paired pixel metric `metric` of one direction."""
    n, name, target = tally.count, f"{metric}_{way.suffix}", {"target": way.target_domain}
    if metric == "l1":
        return [Row(name, "l1", mean_std("l1", tally.get("l1")),
                    {"range": PIXEL_RANGE, **target}, n, n, "pixels")]
    if metric == "psnr":
        return [Row(name, "psnr", psnr_values(tally.get("psnr")),
                    {"data_range": DATA_RANGE, **target}, n, n, "pixels")]
    if metric == "ssim":
        return [Row(name, "ssim", mean_std("ssim", tally.get("ssim")),
                    {"data_range": DATA_RANGE, **target}, n, n, "pixels")]
    return [Row(name, "sharpness", sharpness_values(tally), target, n, n, "pixels")]


def judged_rows(way: Way, tally: Tally) -> list[Row]:
    """Translation success (and class preservation, or the judge's mean probability of the
    target domain) of one direction."""
    values: Values = {"success": float(tally.get("success").mean())}
    for extra in ("class_preservation", "target_prob"):
        if extra in tally.values:
            values[extra] = float(tally.get(extra).mean())
    return [Row(f"success_{way.suffix}", "success", values, {"target": way.target_domain},
                0, tally.count, "judge")]


def feature_rows(metric: str, setup: Setup, way: Way, tally: Tally) -> list[Row]:
    """FID or KID of one direction's translations against the real target-domain images."""
    real, fake, o = tally.real, tally.features, setup.options
    assert real is not None and fake is not None
    target = {"target": way.target_domain}
    if metric == "fid":
        value = M.frechet_distance_from_stats(real.mean(), real.cov(), fake.mean(), fake.cov())
        return [Row(f"fid_{way.suffix}", "fid", {"fid": value}, target, real.count, fake.count,
                    "features")]
    a, b = real.samples(), fake.samples()
    mean, std = M.kernel_inception_distance(a, b, o.kid_subsets, o.kid_subset_size, o.seed)
    params = {"subsets": o.kid_subsets, "subset_size": min(o.kid_subset_size, len(a), len(b)),
              **target}
    return [Row(f"kid_{way.suffix}", "kid", {"kid": mean, "kid_std": std}, params, len(a),
                len(b), "features")]


def cycle_rows(way: Way, tally: Tally) -> list[Row]:
    """Cycle reconstruction L1 of the source domain of one direction."""
    source = way.direction[0].lower()  # "a" for a -> b -> a
    path = f"{way.source_domain} -> {way.target_domain} -> {way.source_domain}"
    return [Row(f"cycle_{source}", "cycle_l1", mean_std("cycle_l1", tally.get("cycle")),
                {"range": PIXEL_RANGE, "path": path}, tally.count, tally.count, "pixels")]


def rows_of(setup: Setup, metric: str, way: Way, tally: Tally) -> list[Row]:
    """The result rows of `metric` in one direction."""
    if metric in ("l1", "psnr", "ssim", "sharpness"):
        return pixel_rows(metric, way, tally)
    if metric == "success":
        return judged_rows(way, tally)
    if metric in ("fid", "kid"):
        return feature_rows(metric, setup, way, tally)
    return cycle_rows(way, tally)


def provenance(setup: Setup, row: Row, way: Way) -> Provenance:
    """How `row` was measured: by pixels, the judge or the feature extractor, on what."""
    crop, size = setup.data.crop, int(setup.data.a.shape[-1])
    features, sha, resize = "pixels", None, f"none: centre {crop}x{crop} crops of {size}x{size}"
    if row.scorer == "judge" and setup.judge is not None:
        features, sha, resize = setup.judge.name, setup.judge.weights_sha256, setup.judge.method
    elif row.scorer == "features" and setup.extractor is not None:
        e = setup.extractor
        features, sha, resize = e.name, e.weights_sha256, e.resize_method
    domain = way.source_domain if row.name.startswith("cycle") else way.target_domain
    return Provenance(features, sha, resize, f"{setup.data.name}:{setup.split}:{domain}",
                      setup.split, f"run:{setup.run.dir.root}:{way.direction}",
                      setup.options.seed, setup.batch_size, str(setup.device))


def collect(setup: Setup, ways: list[Way], tallies: list[Tally]) -> list[MetricResult]:
    """Every result, metric by metric, each direction in turn, with its provenance."""
    results = []
    for metric in setup.metrics:
        for way, tally in zip(ways, tallies):
            for row in rows_of(setup, metric, way, tally):
                results.append(MetricResult(row.name, float(row.values[row.primary]),
                                            row.primary, row.values, row.params, row.n_real,
                                            row.n_fake, provenance(setup, row, way)))
    return results


def summary_provenance(setup: Setup, results: list[MetricResult]) -> Provenance:
    """The report's provenance: its extractors (each result has its own), the split, the run."""
    used = list(dict.fromkeys((r.provenance.features, r.provenance.features_sha256,
                               r.provenance.resize_method) for r in results))
    features, sha, resize = used[0] if len(used) == 1 else (
        ", ".join(u[0] for u in used) or "none", None, "see each result")
    return Provenance(features, sha, resize, f"{setup.data.name}:{setup.split}", setup.split,
                      f"run:{setup.run.dir.root}", setup.options.seed, setup.batch_size,
                      str(setup.device))


def evaluate_translation(run: Run | str | os.PathLike[str], split: str = "test",
                         n: int | None = None, batch_size: int = 16, device: str = "cpu",
                         options: TranslationOptions | None = None) -> EvalReport:
    """Score a translation run on `n` images per direction (None: all) of its dataset's `split`:
    pixel metrics on paired data, success, FID/KID on unpaired data, cycle L1 when it goes both
    ways (see the module's docstring); `options` chooses metrics, features, seeds."""
    start = time.perf_counter()
    setup = prepare(run, split, n, batch_size, device, options or TranslationOptions())
    ways = [way_of(setup.data, d) for d in setup.translator.directions]
    tallies = [run_way(setup, way) for way in ways]
    results = collect(setup, ways, tallies)
    extra = {"task": setup.pairing, "model": setup.run.config.model, "data": setup.data.name,
             "domains": list(setup.data.domains), "directions": [w.direction for w in ways],
             "image_size": setup.data.crop, "pixel_range": PIXEL_RANGE,
             "metrics": list(setup.metrics)}
    n_real = sum(reference_count(setup, t) for t in tallies)
    return EvalReport(results, summary_provenance(setup, results), n_real,
                      sum(t.count for t in tallies), time.perf_counter() - start, extra,
                      dict(setup.skipped))
