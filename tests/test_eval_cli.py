"""`ganforge eval` end to end: folders, a tiny trained run, the JSON record, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.spatial.distance import cdist

import ganforge
from ganforge.cli.main import main
from ganforge.data import load_dataset
from ganforge.evaluation import RunSource
from ganforge.features.classifier import load_classifier, to_input

PROVENANCE = ("metric", "value", "values", "n_real", "n_fake", "features", "features_sha256",
              "resize_method", "real_split", "seed", "ganforge_version", "date")


def write_pngs(folder: Path, images: torch.Tensor) -> Path:
    """Save uint8 (N, 1, H, W) images as PNG files."""
    folder.mkdir(parents=True)
    for i, img in enumerate(images):
        Image.fromarray(img[0].numpy()).save(folder / f"{i:04d}.png")
    return folder


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path, torch.Tensor]:
    images = load_dataset("mnist", split="test").data[:128]
    root = tmp_path_factory.mktemp("eval")
    return write_pngs(root / "real", images[:64]), write_pngs(root / "fake", images[64:]), images


def outputs_of(images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Features and softmax of uint8 images, straight from the MNIST classifier."""
    with torch.no_grad():
        feats, logits = load_classifier("mnist-classifier").features_and_logits(to_input(images))
    return feats.double().numpy(), logits.double().softmax(1).numpy()


def features_of(images: torch.Tensor) -> np.ndarray:
    return outputs_of(images)[0]


def fid_by_eigenvalues(a: np.ndarray, b: np.ndarray) -> float:
    """FID with tr sqrt(S1 S2) from the eigenvalues of the (non-symmetric) product."""
    mu = ((a.mean(0) - b.mean(0)) ** 2).sum()
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = np.sqrt(np.linalg.eigvals(s1 @ s2).real.clip(0, None)).sum()
    return float(mu + np.trace(s1) + np.trace(s2) - 2 * root)


def inception_scores(probs: np.ndarray, splits: int = 10) -> float:
    """Mean IS over contiguous parts [s n // splits, (s + 1) n // splits) (Salimans et al.)."""
    n, scores = len(probs), []
    for s in range(splits):
        part = probs[s * n // splits : (s + 1) * n // splits]
        kl = (part * (np.log(part) - np.log(part.mean(0)))).sum(1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores))


def seeded_subset(total: int, n: int, seed: int = 0) -> torch.Tensor:
    """The n of total items `--seed` picks: a sorted random subset."""
    return torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:n].sort().values


def values(record: dict) -> dict[str, dict]:
    return {r["metric"]: r["values"] for r in record["results"]}


def test_two_folders_end_to_end(folders, tmp_path, capsys) -> None:
    real, fake, images = folders
    out = tmp_path / "eval.json"
    code = main(["eval", "--real", str(real), "--fake", str(fake), "--metrics", "fid,kid,pr",
                 "--features", "mnist-classifier", "--batch-size", "16", "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "fid" in printed and "mnist-classifier" in printed
    record = json.loads(out.read_text())
    assert [r["metric"] for r in record["results"]] == ["fid", "kid", "pr"]
    for result in record["results"]:
        assert set(PROVENANCE) <= set(result)
        assert result["n_real"] == 64 and result["n_fake"] == 64
        assert len(result["features_sha256"]) == 64
    a, b = features_of(images[:64]), features_of(images[64:])
    assert record["results"][0]["value"] == pytest.approx(fid_by_eigenvalues(a, b), rel=1e-3)
    d_ab = cdist(a, b)
    radius_a, radius_b = np.sort(cdist(a, a), 1)[:, 3], np.sort(cdist(b, b), 1)[:, 3]  # k = 3
    pr = {"precision": (d_ab <= radius_a[:, None]).any(0).mean(),
          "recall": (d_ab <= radius_b[None, :]).any(1).mean()}
    assert values(record)["pr"] == pytest.approx(pr, abs=1e-9)
    # every KID subset (size min(1000, 64)) holds all rows: the unbiased MMD^2 of the full sets
    kxx, kyy, kxy = ((x @ y.T / 128 + 1) ** 3 for x, y in ((a, a), (b, b), (a, b)))
    mmd = ((kxx.sum() - np.trace(kxx)) + (kyy.sum() - np.trace(kyy))) / (64 * 63) - 2 * kxy.mean()
    assert values(record)["kid"]["kid"] == pytest.approx(mmd, rel=1e-5)


def test_folder_against_dataset_name(folders, tmp_path) -> None:
    _, fake, images = folders
    out = tmp_path / "e.json"
    assert main(["eval", "--real", "mnist", "--fake", str(fake), "--n", "200",
                 "--metrics", "fid,is,modes", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["n_real"] == 200 and record["n_fake"] == 64
    assert record["provenance"]["real"] == "mnist:test"
    assert record["provenance"]["features"] == "mnist-classifier"  # the dataset's default
    test = load_dataset("mnist", split="test").data
    real_feats, real_probs = outputs_of(test[seeded_subset(len(test), 200)])
    fake_feats, fake_probs = outputs_of(images[64:])  # the PNGs, in file-name order
    got = values(record)
    assert got["fid"]["fid"] == pytest.approx(fid_by_eigenvalues(real_feats, fake_feats), rel=1e-4)
    assert got["is"]["is"] == pytest.approx(inception_scores(fake_probs), rel=1e-6)
    assert got["is"]["is_real"] == pytest.approx(inception_scores(real_probs), rel=1e-6)
    assert 1 < got["is"]["is"] < 10  # IS lies in [1, number of classes]
    assert got["modes"]["modes"] == len(np.unique(fake_probs.argmax(1))) >= 9  # real digits
    assert got["modes"]["modes_real"] == len(np.unique(real_probs.argmax(1)))


def test_eval_tiny_trained_run(tmp_path, tiny) -> None:
    run_dir = tmp_path / "run"
    ganforge.train("dcgan", data="mnist", steps=5, out=str(run_dir), quiet=True, **tiny)
    out = tmp_path / "run.json"
    assert main(["eval", str(run_dir), "--n", "64", "--metrics", "fid,kid,is,modes",
                 "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["provenance"]["real_split"] == "test"
    assert record["provenance"]["fake"] == f"run:{run_dir}"
    assert record["n_fake"] == 64 and record["results"][0]["value"] > 0
    fakes = torch.cat([c.x for c in RunSource(run_dir).chunks(64, 64, seed=0)])
    test = load_dataset("mnist", split="test").data
    real_feats, _ = outputs_of(test[seeded_subset(len(test), 64)])
    fake_feats, fake_probs = outputs_of(fakes)
    got = values(record)
    assert got["fid"]["fid"] == pytest.approx(fid_by_eigenvalues(real_feats, fake_feats), rel=1e-4)
    assert got["is"]["is"] == pytest.approx(inception_scores(fake_probs), rel=1e-6)
    assert got["modes"]["modes"] == len(np.unique(fake_probs.argmax(1)))
    assert 0 < got["kid"]["kid"] and got["fid"]["fid"] > 100  # 5 steps: far from MNIST
    again = tmp_path / "again.json"
    main(["eval", str(run_dir), "--n", "64", "--metrics", "fid", "--batch-size", "5",
          "--json", str(again)])
    assert json.loads(again.read_text())["results"][0]["value"] == pytest.approx(
        record["results"][0]["value"], rel=1e-4)
    kept = sorted((run_dir / "evals").glob("eval-*.json"))  # for ganforge report and compare
    assert len(kept) == 2
    assert record["results"] in [json.loads(k.read_text())["results"] for k in kept]


def bad_input_cases(tmp: Path, real: Path) -> list[tuple[list[str], str]]:
    (tmp / "empty").mkdir()
    (tmp / "notarun").mkdir()
    return [
        (["--real", str(real), "--fake", str(real), "--metrics", "fid,fdi"], "unknown metric"),
        (["--real", str(real), "--fake", str(tmp / "missing")], "not an existing folder"),
        (["--real", str(tmp / "missing"), "--fake", str(real)], "not an existing folder"),
        (["--real", str(real), "--fake", str(tmp / "empty")], "no image files"),
        ([str(tmp / "notarun")], "not a ganforge run folder"),
        ([str(tmp / "missing")], "does not exist"),
        (["--real", str(real), "--fake", str(real), "--features", "vgg"], "feature extractor"),
        (["--real", "mnsit", "--fake", str(real)], "unknown dataset"),
        (["--fake", str(real)], "--fake needs --real"),
        ([], "name a RUN"),
        (["--real", str(real), "--fake", str(real), "--n", "0"], "--n must be"),
        (["--real", str(real), "--fake", str(real), "--device", "cuda"], "--device cuda")
        if not torch.cuda.is_available() else ([], "name a RUN"),
    ]


def test_bad_input_is_one_line_exit_2(folders, tmp_path, capsys) -> None:
    real, _, _ = folders
    for args, message in bad_input_cases(tmp_path, real):
        assert main(["eval", *args]) == 2, args
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, (args, err)


def test_missing_inception_weights_say_how_to_get_them(folders, tmp_path, monkeypatch,
                                                       capsys) -> None:
    from ganforge.features import weights

    real, fake, _ = folders
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path / "cache"))

    def offline(url, dest, sha256, progress):
        raise OSError("network unreachable")

    monkeypatch.setattr(weights, "_download", offline)
    assert main(["eval", "--real", str(real), "--fake", str(fake), "--features",
                 "inception"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--inception-weights" in err and "download" in err


def test_conditional_run_is_a_labelled_source(tmp_path, tiny) -> None:
    run_dir = tmp_path / "cgan"
    ganforge.train("cgan", data="mnist", steps=2, out=str(run_dir), quiet=True, **tiny)
    src = RunSource(run_dir)
    assert src.labelled and src.num_classes == 10
    big = list(src.chunks(40, 64, seed=3))
    small = list(src.chunks(40, 7, seed=3))
    x_big, y_big = torch.cat([c.x for c in big]), torch.cat([c.y for c in big])
    x_small, y_small = torch.cat([c.x for c in small]), torch.cat([c.y for c in small])
    assert x_big.dtype == torch.uint8 and x_big.shape == (40, 1, 28, 28)
    assert torch.equal(y_big, y_small)
    assert (x_big.int() - x_small.int()).abs().max() <= 1  # float rounding at a .5 boundary
    expected = src.run.variant.noise(40, torch.Generator().manual_seed(3))["y"]
    assert torch.equal(y_big, expected.cpu())
