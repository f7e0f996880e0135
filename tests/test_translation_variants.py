"""pix2pix and cyclegan on the variant interface: they train a few steps on real data at a tiny
size, their losses are the papers' (checked against direct computations), previews show what
`translate` gives, and a cyclegan run resumes bitwise across the learning-rate decay boundary
with its image pools."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import ganforge
from conftest import train_and_interrupt
from ganforge.api import make_config
from ganforge.data import load_dataset
from ganforge.errors import ConfigError
from ganforge.train import session
from ganforge.train.checkpoint import load_checkpoint
from ganforge.train.run import RunDir
from ganforge.variants import build_variant
from ganforge.variants.base import Translator

TINY = {"width": 4, "log_every": 1000, "monitor_every": 0, "grid_size": 2}
PIX = {**TINY, "data": "facades", "direction": "BtoA", "image_size": 64}
CYC = {**TINY, "data": "mnist-style", "image_size": 32, "blocks": 1, "pool_size": 3}


def _state(run: Path) -> dict[str, object]:
    return load_checkpoint(run / "checkpoints" / "last.pt")["variant"]


def _tensors(state: dict[str, object], prefix: str = "") -> dict[str, torch.Tensor]:
    """Every tensor of a state dict, the pools' extra state (dicts of tensors) flattened."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if isinstance(value, torch.Tensor):
            out[prefix + key] = value
        elif isinstance(value, dict):
            out.update(_tensors(value, f"{prefix}{key}."))
    return out


@pytest.mark.parametrize(("model", "opts"), [("pix2pix", PIX), ("cyclegan", CYC)])
def test_translation_models_train_and_export(model: str, opts: dict, tmp_path: Path) -> None:
    run = ganforge.train(model, steps=3, out=tmp_path / "r", quiet=True, **opts)
    records = [r for r in run.dir.read_log() if "g_loss" in r]
    assert len(records) == 3 and all(torch.isfinite(torch.tensor([r["g_loss"], r["d_loss"]])).all()
                                     for r in records)
    assert isinstance(run.variant, Translator)
    names = {"pix2pix": ["generator"], "cyclegan": ["g_ab", "g_ba"]}[model]
    assert sorted(run.nets) == names and all(run.dir.weights(n).is_file() for n in names)
    start = build_variant(run.config, run.spec).state_dict()  # same seed: the initial weights
    after = _state(tmp_path / "r")
    moved = [k for k, v in _tensors(after).items()
             if v.is_floating_point() and not torch.equal(start[k], v)]
    assert any(k.startswith(("generator", "g_ab")) for k in moved)
    assert any(k.startswith(("discriminator", "d_b")) for k in moved)
    assert (tmp_path / "r" / "samples" / "epoch_000.png").is_file() or any(
        (tmp_path / "r" / "samples").iterdir())


def test_pix2pix_with_l1_alone_has_no_discriminator(tmp_path: Path) -> None:
    run = ganforge.train("pix2pix", steps=2, out=tmp_path / "r", quiet=True, lambda_gan=0.0,
                         **PIX)
    assert set(run.variant.param_groups()) == {"G"}
    records = [r for r in run.dir.read_log() if "g_loss" in r]
    assert all("d_loss" not in r for r in records)
    assert records[0]["g_loss"] == pytest.approx(100 * records[0]["g_l1"], rel=1e-6)


def test_wrong_data_is_a_one_line_error() -> None:
    cfg = make_config("pix2pix", **{**PIX, "data": "mnist-style", "image_size": 32})
    with pytest.raises(ConfigError, match=r"pix2pix needs paired image data \(facades"):
        build_variant(cfg, load_dataset("mnist-style").spec())
    cfg = make_config("cyclegan", **{**CYC, "data": "mnist"})
    with pytest.raises(ConfigError, match="cyclegan needs unpaired or paired image data"):
        build_variant(cfg, load_dataset("mnist").spec())


@pytest.fixture(scope="module")
def facades_batch() -> tuple[object, object]:
    data = load_dataset("facades", split="test", image_size=64, direction="BtoA")
    return data, data.make_batch(torch.arange(2), torch.device("cpu"),
                                 torch.Generator().manual_seed(0))


def test_pix2pix_losses_are_the_papers(facades_batch: tuple) -> None:
    data, batch = facades_batch
    torch.manual_seed(0)
    v = build_variant(make_config("pix2pix", **PIX), data.spec())
    v.step = 0
    g = v.generator_loss(batch)
    fake = v._fake
    d = v.discriminator_loss(batch)
    l1 = (fake - batch.b).abs().mean()
    real_out = v.discriminator(torch.cat([batch.a, batch.b], 1))
    fake_out = v.discriminator(torch.cat([batch.a, fake], 1))
    bce = F.binary_cross_entropy_with_logits
    expect_d = 0.5 * (bce(real_out, torch.ones_like(real_out))
                      + bce(fake_out, torch.zeros_like(fake_out)))
    assert d["loss"].item() == pytest.approx(expect_d.item(), rel=1e-5)
    assert g["l1"].item() == pytest.approx(l1.item(), rel=1e-5)
    adv = bce(fake_out, torch.ones_like(fake_out))  # D unchanged since G's phase
    assert g["loss"].item() == pytest.approx((adv + 100 * l1).item(), rel=1e-5)


def test_cyclegan_losses_are_the_papers() -> None:
    data = load_dataset("mnist-style", split="test")
    batch = data.make_batch(torch.arange(2), torch.device("cpu"))
    torch.manual_seed(0)
    v = build_variant(make_config("cyclegan", **{**CYC, "pool_size": 0}), data.spec())
    v.step = 0
    g = v.generator_loss(batch)
    a, b = batch.a, batch.b
    fb, fa = v.g_ab(a), v.g_ba(b)
    mse1 = lambda out: ((out - 1) ** 2).mean()  # noqa: E731 - MSE against "real", unhalved
    cyc = (v.g_ba(fb) - a).abs().mean() + (v.g_ab(fa) - b).abs().mean()
    idt = (v.g_ab(b) - b).abs().mean() + (v.g_ba(a) - a).abs().mean()
    expect = mse1(v.d_b(fb)) + mse1(v.d_a(fa)) + 10 * cyc + 10 * 0.5 * idt
    assert g["loss"].item() == pytest.approx(expect.item(), rel=1e-5)
    d = v.discriminator_loss(batch)  # pool off: D sees this step's fakes
    half = lambda real, fake: 0.5 * (((real - 1) ** 2).mean() + (fake ** 2).mean())  # noqa: E731
    expect_d = half(v.d_a(a), v.d_a(fa)) + half(v.d_b(b), v.d_b(fb))
    assert d["loss"].item() == pytest.approx(expect_d.item(), rel=1e-5)


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_pix2pix_previews_show_what_translate_gives(mode: str, facades_batch: tuple) -> None:
    data, batch = facades_batch
    v = build_variant(make_config("pix2pix", translate_mode=mode, **PIX), data.spec())
    nets = v.exports()
    running = [b.clone() for b in v.generator.buffers()]
    torch.manual_seed(5)
    figure = v.preview({"a": batch.a, "b": batch.b}, nets)
    after_rng = torch.rand(1)
    out = v.translate(batch.a, nets)
    assert figure.nrow == 3 and figure.images.shape[0] == 3 * batch.size
    assert torch.equal(figure.images[1::3], out)  # the output column is translate's output
    assert torch.equal(figure.images[0::3], batch.a) and torch.equal(figure.images[2::3], batch.b)
    assert all(torch.equal(x, y) for x, y in zip(running, v.generator.buffers()))
    torch.manual_seed(5)
    assert torch.equal(torch.rand(1), after_rng)  # the training RNG was not touched
    if mode == "train":  # dropout and batch statistics: not the eval-mode output
        v.generator.eval()
        with torch.no_grad():
            assert not torch.equal(v.generator(batch.a), out)


def test_cyclegan_resumes_bitwise_across_the_decay_boundary(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    opts = {**CYC, "lr_policy": "linear", "checkpoint_every": 1000, "pool_size": 2}
    # cut at step 3: the pools are full after 2 steps; the decay starts at step 4
    train_and_interrupt("cyclegan", 8, tmp_path, monkeypatch, **opts)
    pools = {k: v for k, v in _state(tmp_path / "cut").items() if k.startswith("pool_")}
    assert int(pools["pool_a.num_stored"]) == 2  # the pools are in the checkpoint, full
    session.resume(tmp_path / "cut", quiet=True)
    full, part = _tensors(_state(tmp_path / "full")), _tensors(_state(tmp_path / "cut"))
    assert full.keys() == part.keys() and any("pool_a._extra_state" in k for k in full)
    for key in full:
        assert torch.equal(full[key], part[key]), key
    for name in ("g_ab", "g_ba"):
        assert (tmp_path / "full" / f"{name}.safetensors").read_bytes() == (
            tmp_path / "cut" / f"{name}.safetensors").read_bytes()
    # the contrast: a resume that lost the pools' state does not end in the same place
    ganforge.train("cyclegan", steps=8, out=tmp_path / "nopool", quiet=True,
                   **{**opts, "pool_size": 0})
    other = _tensors(_state(tmp_path / "nopool"))
    assert any(not torch.equal(full[k], other[k]) for k in other if k.startswith("g_ab"))
    assert RunDir(tmp_path / "cut").read_log()[-1]["step"] == 8
