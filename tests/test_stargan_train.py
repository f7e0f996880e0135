"""stargan end to end at a tiny size: a few steps on the shared CelebA subset's faces and on a
domains folder, a bitwise resume (with the targets' generator in the checkpoint), the preview,
and `translate --attrs` checked against G applied to hand-edited labels."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ganforge
from conftest import train_and_interrupt
from ganforge.api import load_run, make_config
from ganforge.cli.main import main
from ganforge.errors import ConfigError
from ganforge.train import session
from ganforge.train.checkpoint import load_checkpoint
from test_stargan_data import SUBSET, _domains, make_celeba

pytestmark = pytest.mark.skipif(not SUBSET.is_dir(), reason="no shared CelebA subset")
TINY = {"image_size": 16, "width": 4, "blocks": 1, "batch_size": 4, "n_critic": 2,
        "grid_size": 2, "log_every": 1000, "monitor_every": 0}


@pytest.fixture(scope="module")
def faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 faces of the shared subset in the official layout."""
    return make_celeba(tmp_path_factory.mktemp("celeba"), 40)


@pytest.fixture(scope="module")
def trained(faces: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "run"
    ganforge.train("stargan", data_dir=str(faces), steps=4, out=str(out), quiet=True, **TINY)
    return out


def test_a_few_steps_log_every_term(trained: Path) -> None:
    rows = [r for r in (trained / "log.jsonl").read_text().splitlines() if r]
    assert len(rows) == 4
    last = __import__("json").loads(rows[-1])
    for key in ("d_adv", "d_cls", "d_gp", "g_adv", "g_cls", "g_rec", "lr_factor"):
        assert key in last and torch.isfinite(torch.tensor(last[key])), key
    meta = __import__("json").loads((trained / "meta.json").read_text())
    assert "rows 1-36 of the 40" in meta["data_spec"]["split_rule"]
    assert (trained / "generator.safetensors").is_file()
    assert (trained / "discriminator.safetensors").is_file()


def test_resume_is_bitwise(faces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opts = {**TINY, "data_dir": str(faces), "lr_policy": "linear", "checkpoint_every": 1000}
    train_and_interrupt("stargan", 6, tmp_path, monkeypatch, **opts)
    session.resume(tmp_path / "cut", quiet=True)
    full, part = (load_checkpoint(tmp_path / d / "checkpoints" / "last.pt")["variant"]
                  for d in ("full", "cut"))
    assert full.keys() == part.keys() and "_extra_state" in full
    for key, value in full.items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, part[key]), key
    assert torch.equal(full["_extra_state"]["generator"], part["_extra_state"]["generator"])
    for name in ("generator", "discriminator"):
        assert (tmp_path / "full" / f"{name}.safetensors").read_bytes() == (
            tmp_path / "cut" / f"{name}.safetensors").read_bytes()


def test_targets_are_shared_by_the_phases_of_a_step(faces: Path) -> None:
    from ganforge.data import load_dataset
    from ganforge.variants import build_variant

    cfg = make_config("stargan", data_dir=str(faces), **TINY)
    data = load_dataset("celeba", data_dir=str(faces), image_size=16)
    variant = build_variant(cfg, data.spec())
    batch = data.make_batch(torch.arange(8), torch.device("cpu"))
    c_org, c_trg = variant.targets(batch)
    gen = torch.Generator().manual_seed(cfg.seed * 2 + 3)  # the variant's documented seed
    first, second = torch.randperm(8, generator=gen), torch.randperm(8, generator=gen)
    assert torch.equal(c_trg, c_org[first])
    assert torch.equal(variant.targets(batch)[1], c_trg)  # D and G of one step share them
    variant.step = 1
    assert torch.equal(variant.targets(batch)[1], c_org[second])


def test_translate_attrs_is_g_of_the_edited_labels(trained: Path, tmp_path: Path) -> None:
    run = load_run(trained)
    assert run.translate_row(torch.zeros(0, 3, 16, 16))[1].shape == (0, 5, 3, 16, 16)
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    out = run.translate(x, attrs="+Blond_Hair,-Male")
    with torch.no_grad():
        logits = run.nets["discriminator"](x)[1]
        c = (logits > 0).float()
        c[:, [0, 2]] = 0
        c[:, 1], c[:, 3] = 1, 0
        want = run.nets["generator"](x, c)
    assert torch.allclose(out, want, atol=1e-6)
    names, row = run.translate_row(x)
    assert names == ["Black_Hair", "Blond_Hair", "Brown_Hair", "~Male", "~Young"]
    assert row.shape == (3, 5, 3, 16, 16)
    with pytest.raises(ConfigError, match="pass attrs="):
        run.translate(x)


def test_translate_cli(trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    inp = tmp_path / "in"
    inp.mkdir()
    for name in ("000001.jpg", "000002.jpg"):
        (inp / name).write_bytes((SUBSET / "images" / name).read_bytes())
    assert main(["translate", str(trained), "--input", str(inp), "--out", str(tmp_path / "a"),
                 "--attrs", "+Blond_Hair,-Male"]) == 0
    assert Image.open(tmp_path / "a" / "000001.png").size == (16, 16)
    assert main(["translate", str(trained), "--input", str(inp), "--out",
                 str(tmp_path / "row")]) == 0
    assert Image.open(tmp_path / "row" / "000002.png").size == (6 * 16, 16)
    assert "input | Black_Hair" in (tmp_path / "row" / "index.html").read_text()
    capsys.readouterr()
    assert main(["translate", str(trained), "--input", str(inp), "--out", str(tmp_path / "b"),
                 "--attrs", "+Bald"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown attribute 'Bald'" in err and "\n" not in err
    assert not (tmp_path / "b").exists()


def test_unknown_attribute_at_training_lists_the_valid_ones(
        faces: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "stargan", "--data-dir", str(faces), "--image-size", "16",
                 "--attrs", "Blond_Hair,Blue_Hair", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown attribute 'Blue_Hair'" in err and "5_o_Clock_Shadow" in err
    assert "\n" not in err


def test_trains_on_a_domains_folder(tmp_path: Path) -> None:
    root = _domains(tmp_path / "d", {"a": 6, "b": 6, "c": 6})
    run = ganforge.train("stargan", data=f"domains:{root}", steps=2, out=str(tmp_path / "r"),
                         quiet=True, **{**TINY, "image_size": 8})
    assert run.variant.labels.single and run.variant.labels.names == ("a", "b", "c")
    names, row = run.translate_row(torch.rand(2, 3, 8, 8) * 2 - 1)
    assert names == ["a", "b", "c"] and row.shape == (2, 3, 3, 8, 8)
    assert run.translate(torch.rand(1, 3, 8, 8), attrs="+b").shape == (1, 3, 8, 8)


def _u8(x: torch.Tensor) -> torch.Tensor:
    return ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


def test_eval_against_an_independent_computation(trained: Path, faces: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from ganforge import metrics as M
    from ganforge.data import load_dataset
    from ganforge.evaluation.attribute_translation import evaluate_attribute_translation
    from ganforge.features.classifier import load_classifier, to_input

    report = evaluate_attribute_translation(trained, batch_size=3)
    run, clf = load_run(trained), load_classifier("celeba-classifier")
    data = load_dataset("celeba", split="test", data_dir=str(faces), image_size=16)
    five = ["Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young"]
    c = data.attrs[:, [data.attributes.index(a) for a in five]].float()  # type: ignore[union-attr]
    x8 = data.images
    x = x8.float() / 127.5 - 1

    def read(img8: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return torch.sigmoid(clf(to_input(img8, 64))) > 0.5

    read_in, kept, rec, feats = read(x8), [], [], []
    for j in range(5):
        t = c.clone()
        if j < 3:
            t[:, :3] = 0
            t[:, j] = 1
        else:
            t[:, j] = 1 - t[:, j]
        with torch.no_grad():
            fake8 = _u8(run.nets["generator"](x, t))
            back8 = _u8(run.nets["generator"](fake8.float() / 127.5 - 1, c))
            feats.append(clf.features_and_logits(to_input(fake8, 64))[0])
        got = read(fake8)
        success = float((got[:, j] == t[:, j].bool()).double().mean())
        assert report[f"success_{run.variant.labels.column_names()[j]}"].value == pytest.approx(
            success)
        kept.append((got == read_in)[t == c].double())
        rec.append(((back8.double() - x8.double()).abs() / 255).mean((1, 2, 3)))
    assert report["preservation"].value == pytest.approx(float(torch.cat(kept).mean()))
    assert report["reconstruction"].value == pytest.approx(float(torch.cat(rec).mean()))
    with torch.no_grad():
        real = clf.features_and_logits(to_input(x8, 64))[0]
    fid = M.frechet_distance(real.double().numpy(), torch.cat(feats).double().numpy())
    assert report["fid"].value == pytest.approx(fid, rel=1e-4)
    assert report.n_real == 4 and report.n_fake == 20
    assert main(["eval", str(trained), "--metrics", "success,reconstruction"]) == 0
    assert "success_~Male" in capsys.readouterr().out
