"""Evaluation of translation runs: the metric plumbing against independent computations (stand-in
translators with known outputs, numpy / scipy / scikit-image on the data itself), the judges,
and `ganforge eval RUN` end to end on tiny pix2pix and cyclegan runs."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import ndimage

import ganforge
from ganforge.cli.main import main
from ganforge.data import load_dataset
from ganforge.errors import GanforgeError
from ganforge.evaluation import EvalReport, TranslationOptions, evaluate_translation
from ganforge.evaluation.digits_task import score_translations
from ganforge.evaluation.record import MetricResult, Provenance
from ganforge.evaluation.translation_judges import ClassifierJudge, make_features, make_judge
from ganforge.features.classifier import load_classifier, to_input

metrics = pytest.importorskip("skimage.metrics")

PROVENANCE = ("metric", "value", "values", "params", "n_real", "n_fake", "features",
              "features_sha256", "resize_method", "real", "real_split", "fake", "seed",
              "ganforge_version", "date")
Fn = Callable[[torch.Tensor, str], torch.Tensor]


class StandIn:
    """A translator whose output is `fn(images, direction)`: known outputs, known answers."""

    def __init__(self, fn: Fn, directions: tuple[str, ...] = ("AtoB",)) -> None:
        self.fn, self.directions = fn, directions

    def translate(self, images: torch.Tensor, nets: object, direction: str = "AtoB",
                  **target: object) -> torch.Tensor:
        return self.fn(images, direction)


def with_translator(path: Path, fn: Fn, directions: tuple[str, ...] = ("AtoB",)) -> object:
    """The run at `path` with its variant replaced by a stand-in translator."""
    run = ganforge.load_run(path)
    run.variant = StandIn(fn, directions)  # type: ignore[assignment]
    return run


@pytest.fixture(scope="module")
def p2p(tmp_path_factory) -> Path:
    """A tiny pix2pix run: facades labels -> photo, 64 px, 2 steps."""
    out = tmp_path_factory.mktemp("p2p") / "run"
    ganforge.train("pix2pix", data="facades", direction="BtoA", image_size=64, width=8, steps=2,
                   out=str(out), quiet=True)
    return out


@pytest.fixture(scope="module")
def cyc(tmp_path_factory) -> Path:
    """A tiny cyclegan run on mnist-style, 4 steps."""
    out = tmp_path_factory.mktemp("cyc") / "run"
    ganforge.train("cyclegan", data="mnist-style", image_size=32, width=8, steps=4, out=str(out),
                   quiet=True, blocks=1)
    return out


@pytest.fixture(scope="module")
def facades():
    return load_dataset("facades", split="test", image_size=64, direction="BtoA")


def chosen(total: int, n: int, seed: int = 0) -> torch.Tensor:
    """The documented subset of `n` of `total` test images: seeded, sorted."""
    return torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:n].sort().values


def centre(images: torch.Tensor, crop: int) -> torch.Tensor:
    """Centre crop, written out independently of the code under test."""
    off = (images.shape[-1] - crop) // 2
    return images[..., off : off + crop, off : off + crop]


def laplacian_var(images: torch.Tensor) -> np.ndarray:
    """scipy's Laplacian of the BT.601 luma, interior positions, per image."""
    arr = images.double().numpy() / 255
    lum = np.tensordot([0.299, 0.587, 0.114], arr, axes=([0], [1]))
    return np.array([ndimage.laplace(im)[1:-1, 1:-1].var() for im in lum])


def test_identity_translator_scores_the_inputs_against_the_targets(p2p, facades) -> None:
    n, idx = 5, chosen(106, 5)
    x, y = centre(facades.a[idx], 64), centre(facades.b[idx], 64)  # label maps, photos (uint8)
    report = evaluate_translation(with_translator(p2p, lambda im, d: im), n=n, batch_size=2)
    assert [r.metric for r in report.results] == ["l1_ab", "psnr_ab", "ssim_ab", "sharpness_ab"]
    xs, ys = x.double().numpy(), y.double().numpy()
    l1 = np.abs(xs - ys).mean((1, 2, 3)) / 255
    psnr = [metrics.peak_signal_noise_ratio(b, a, data_range=255) for a, b in zip(xs, ys)]
    ssim = [metrics.structural_similarity(a, b, data_range=255, channel_axis=0,
                                          gaussian_weights=True, sigma=1.5,
                                          use_sample_covariance=False) for a, b in zip(xs, ys)]
    assert report["l1_ab"].value == pytest.approx(l1.mean(), rel=1e-9)
    assert report["l1_ab"].values["l1_std"] == pytest.approx(l1.std(), rel=1e-9)
    assert report["psnr_ab"].value == pytest.approx(np.mean(psnr), rel=1e-9)
    assert report["psnr_ab"].values["identical"] == 0
    assert report["ssim_ab"].value == pytest.approx(np.mean(ssim), rel=1e-7)
    assert report["ssim_ab"].values["ssim_std"] == pytest.approx(np.std(ssim), rel=1e-6)
    ratio = laplacian_var(x).mean() / laplacian_var(y).mean()
    assert report["sharpness_ab"].value == pytest.approx(ratio, rel=1e-9)
    assert report.n_real == report.n_fake == n
    assert all(r.n_real == r.n_fake == n and r.provenance.features == "pixels"
               for r in report.results)


def test_translator_returning_the_targets_is_perfect(p2p, facades, tmp_path) -> None:
    n = 4
    table = {centre(a, 64).numpy().tobytes(): centre(b, 64)
             for a, b in zip(facades.a, facades.b)}

    def oracle(images: torch.Tensor, direction: str) -> torch.Tensor:
        keys = ((images + 1) * 127.5).round().to(torch.uint8)
        return torch.stack([table[k.numpy().tobytes()] for k in keys]).float() / 127.5 - 1

    report = evaluate_translation(with_translator(p2p, oracle), n=n, batch_size=3)
    assert report["l1_ab"].value == 0.0
    assert report["ssim_ab"].value == pytest.approx(1.0, abs=1e-12)
    assert math.isinf(report["psnr_ab"].value) and report["psnr_ab"].values["identical"] == n
    assert report["sharpness_ab"].value == pytest.approx(1.0)  # real photos: ratio 1
    record = json.loads(report.write_json(tmp_path / "e.json").read_text())
    assert math.isinf(record["results"][1]["value"])


def flip_even_rows(images: torch.Tensor, direction: str) -> torch.Tensor:
    """AtoB: invert every other image (it gets the light background of bold-inverted), leave
    the rest; BtoA: identity (a bold-inverted image stays in its domain)."""
    if direction == "BtoA":
        return images.clone()
    out = images.clone()
    out[0::2] = -out[0::2]
    return out


def mnist_features(images: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        model = load_classifier("mnist-classifier")
        return model.features_and_logits(to_input(images))[0].double().numpy()


def fid(a: np.ndarray, b: np.ndarray) -> float:
    mu = ((a.mean(0) - b.mean(0)) ** 2).sum()
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = np.sqrt(np.linalg.eigvals(s1 @ s2).real.clip(0, None)).sum()
    return float(mu + np.trace(s1) + np.trace(s2) - 2 * root)


def test_unpaired_success_cycle_and_fid_against_direct_computations(cyc) -> None:
    n = 32
    data = load_dataset("mnist-style", split="test")
    run = with_translator(cyc, flip_even_rows, ("AtoB", "BtoA"))
    report = evaluate_translation(run, n=n, batch_size=8)
    names = ["success_ab", "success_ba", "fid_ab", "fid_ba", "kid_ab", "kid_ba", "cycle_a",
             "cycle_b"]
    assert [r.metric for r in report.results] == names
    assert report["success_ab"].value == 0.5  # hand-labelled: the inverted half succeeds
    assert report["success_ba"].value == 0.0  # left bold-inverted, none reached mnist
    idx = chosen(5000, n)
    a8, b8 = data.a[idx], data.b[idx]
    fake_b = a8.clone()
    fake_b[0::2] = 255 - fake_b[0::2]
    direct = score_translations(fake_b, data.labels_a[idx], "bold-inverted")
    assert report["success_ab"].values["class_preservation"] == pytest.approx(
        direct.class_preservation)
    back = score_translations(b8, data.labels_b[idx], "mnist")
    assert report["success_ba"].values["class_preservation"] == pytest.approx(
        back.class_preservation)
    cycle_a = (fake_b.double() - a8.double()).abs().mean((1, 2, 3)) / 255  # BtoA is identity
    assert report["cycle_a"].value == pytest.approx(float(cycle_a.mean()), rel=1e-9)
    rec_b = b8.clone()  # b -> a is the identity, then a -> b inverts the even rows
    rec_b[0::2] = 255 - rec_b[0::2]
    cycle_b = (rec_b.double() - b8.double()).abs().mean((1, 2, 3)) / 255
    assert report["cycle_b"].value == pytest.approx(float(cycle_b.mean()), rel=1e-9)
    assert report["cycle_b"].values["cycle_l1_std"] == pytest.approx(float(cycle_b.std(
        correction=0)), rel=1e-9)
    assert report["fid_ab"].value == pytest.approx(
        fid(mnist_features(b8), mnist_features(fake_b)), rel=1e-4)
    assert report["fid_ab"].provenance.features == "mnist-classifier"
    assert report["fid_ab"].n_real == report["fid_ab"].n_fake == n


def test_classifier_judge_maps_classes_to_domains() -> None:
    judge = ClassifierJudge("zebra-classifier")
    assert judge.classes == ["horse", "zebra"]

    class Probs:  # hand-labelled classifier outputs
        def probs(self, images: torch.Tensor) -> np.ndarray:
            return np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])

    real_extractor, judge.extractor = judge.extractor, Probs()  # type: ignore[assignment]
    images = torch.zeros(3, 3, 64, 64, dtype=torch.uint8)
    assert judge.score(images, "zebra", None)["success"].tolist() == [0.0, 1.0, 1.0]
    assert judge.score(images, "horse", None)["success"].tolist() == [1.0, 0.0, 0.0]
    assert judge.score(images, "zebra", None)["target_prob"].tolist() == pytest.approx(
        [0.1, 0.8, 0.6])
    with pytest.raises(GanforgeError, match="cannot judge domain 'cat'"):
        judge.score(images, "cat", None)
    judge.extractor = real_extractor
    zebras = load_dataset("horse2zebra", split="test", image_size=64)
    real = centre(zebras.b[:24], 64)
    assert judge.score(real, "zebra", None)["success"].mean() > 0.75  # real zebras are zebras


def test_data_without_a_domain_classifier_says_what_is_skipped(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path))  # no Inception weights there
    judge, why = make_judge("unpaired:/some/photos", "cpu")
    assert judge is None and "no domain classifier for unpaired:/some/photos" in why
    extractor, why = make_features("unpaired:/some/photos", None, None, "cpu")
    assert extractor is None and "--inception-weights" in why
    prov = Provenance("pixels", None, "none", "x:test", "test", "run:r", 0, 1, "cpu")
    report = EvalReport([MetricResult("cycle_a", 0.1, "cycle_l1", {"cycle_l1": 0.1}, {}, 2, 2,
                                      prov)], prov, 2, 2, 0.0, skipped={"fid": why})
    assert f"skipped fid: {why}" in report.table()
    assert report.to_dict()["skipped"] == {"fid": why}


def test_eval_cli_on_a_pix2pix_run(p2p, facades, tmp_path, capsys) -> None:
    out = tmp_path / "p2p.json"
    assert main(["eval", str(p2p), "--n", "4", "--batch-size", "3", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in ("l1_ab", "psnr_ab", "ssim_ab", "sharpness_ab", "features pixels"):
        assert name in printed
    record = json.loads(out.read_text())
    assert record["task"] == "paired" and record["domains"] == ["labels", "photo"]
    assert record["n_real"] == record["n_fake"] == 4
    for result in record["results"]:
        assert set(PROVENANCE) <= set(result) and result["real_split"] == "test"
        assert result["real"] == "facades:test:photo" and result["n_fake"] == 4
    run = ganforge.load_run(p2p)
    idx = chosen(106, 4)
    x = centre(facades.a[idx], 64).float() / 127.5 - 1
    fake = ((run.variant.translate(x, run.nets) + 1) * 127.5).round().clamp(0, 255)
    l1 = (fake - centre(facades.b[idx], 64).float()).abs().mean() / 255
    assert record["results"][0]["value"] == pytest.approx(float(l1), rel=1e-6)


def test_eval_cli_on_a_cyclegan_run(cyc, tmp_path, capsys) -> None:
    out = tmp_path / "cyc.json"
    assert main(["eval", str(cyc), "--n", "16", "--batch-size", "8", "--json", str(out)]) == 0
    assert "success_ab" in capsys.readouterr().out
    record = json.loads(out.read_text())
    assert [r["metric"] for r in record["results"]] == [
        "success_ab", "success_ba", "fid_ab", "fid_ba", "kid_ab", "kid_ba", "cycle_a", "cycle_b"]
    for result in record["results"]:
        assert set(PROVENANCE) <= set(result)
    assert {r["features"] for r in record["results"]} == {"mnist-classifier", "pixels"}
    assert all(len(r["features_sha256"]) == 64 for r in record["results"][:6])
    run = ganforge.load_run(cyc)
    data = load_dataset("mnist-style", split="test")
    idx = chosen(5000, 16)
    fake = run.variant.translate(data.a[idx].float() / 127.5 - 1, run.nets, "AtoB")
    fake8 = ((fake + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
    direct = score_translations(fake8, data.labels_a[idx], "bold-inverted")
    assert record["results"][0]["value"] == pytest.approx(direct.domain_success)
    assert record["results"][0]["values"]["class_preservation"] == pytest.approx(
        direct.class_preservation)


def test_metric_subset_and_split(p2p, cyc) -> None:
    options = TranslationOptions(metrics=("ssim", "l1"))
    report = evaluate_translation(p2p, split="val", n=2, options=options)
    assert [r.metric for r in report.results] == ["ssim_ab", "l1_ab"]
    assert report.provenance.real == "facades:val" and report.n_fake == 2
    cycles = evaluate_translation(cyc, n=4, options=TranslationOptions(metrics=("cycle",)))
    assert [r.metric for r in cycles.results] == ["cycle_a", "cycle_b"]


@pytest.mark.parametrize(("which", "args", "message"), [
    ("p2p", ["--metrics", "fid"], "metric 'fid' does not apply to paired translation (pix2pix "
     "on facades); choose from: l1, psnr, ssim, sharpness"),
    ("cyc", ["--metrics", "success,l1"], "metric 'l1' does not apply to unpaired translation "
     "(cyclegan on mnist-style); choose from: success, fid, kid, cycle"),
    ("p2p", ["--real", "mnist"], "--real does not apply to translation runs"),
    ("p2p", ["--n", "0"], "--n must be at least 1"),
    ("p2p", ["--split", "dev"], "unknown split 'dev'"),
])
def test_bad_input_is_one_line(which, args, message, p2p, cyc, capsys) -> None:
    run = p2p if which == "p2p" else cyc
    assert main(["eval", str(run), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_gan_runs_still_refuse_translation_metrics(tmp_path, tiny, capsys) -> None:
    ganforge.train("gan", data="ring8", steps=1, out=str(tmp_path / "gan"), quiet=True, **tiny)
    assert main(["eval", str(tmp_path / "gan"), "--metrics", "l1"]) == 2
    assert "unknown metric 'l1'; choose from: 1nn" in capsys.readouterr().err
