"""Every preset trains on MNIST and on a toy set; the run folder and console output."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
import torch
import yaml

import ganforge
from conftest import gan_presets
from ganforge.api import Run
from ganforge.cli.main import main
from ganforge.presets import PRESETS
from ganforge.train.checkpoint import load_checkpoint
from ganforge.train.trainer import Trainer, TrainResult

UNCONDITIONAL = [n for n in PRESETS.names() if PRESETS.get(n).get("variant", "unconditional")
                 == "unconditional"]


def _initial_weights(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, torch.Tensor]]:
    """Make Trainer.fit keep a copy of each group's parameters before training; returns it."""
    seen: dict[str, dict[str, torch.Tensor]] = {}
    original = Trainer.fit

    def fit(self: Trainer) -> TrainResult:
        names = {id(p): n for n, p in self.variant.named_parameters()}
        for group, params in self.groups.items():
            seen[group] = {names[id(p)]: p.detach().clone() for p in params}
        return original(self)

    monkeypatch.setattr(Trainer, "fit", fit)
    return seen


def _assert_trained(run: Run, before: dict[str, dict[str, torch.Tensor]],
                    steps: int) -> None:
    """Finite losses logged for every step, G's from its first update on; every weight moved."""
    records = [r for r in run.dir.read_log() if "d_loss" in r]
    assert [r["step"] for r in records] == list(range(1, steps + 1))
    n_critic = run.config.n_critic
    assert all(math.isfinite(r["d_loss"]) for r in records)
    assert all(math.isfinite(r["g_loss"]) for r in records[n_critic - 1 :])
    after = load_checkpoint(run.dir.checkpoint)["variant"]
    # The critic's output bias cancels in E[f(fake)] - E[f(real)] (and the gradient penalty
    # ignores it): its gradient is exactly 0 under the Wasserstein loss, so it never moves.
    fixed = ["discriminator.head.bias"] if run.config.loss == "wasserstein" else []
    assert set(before) == {"D", "G"}
    for group, weights in before.items():
        still = [k for k, w in weights.items() if torch.equal(w, after[k])]
        assert still == [k for k in fixed if k in weights], f"{group} never updated: {still}"


@pytest.mark.parametrize("model", gan_presets())
def test_every_preset_trains_on_mnist(model: str, tmp_path: Path, tiny: dict,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    before = _initial_weights(monkeypatch)
    steps = max(3, PRESETS.get(model)["n_critic"])  # at least one generator update
    run = ganforge.train(model, data="mnist", steps=steps, out=tmp_path / "r", quiet=True, **tiny)
    _assert_trained(run, before, steps)
    images = run.sample(4)
    assert images.shape == (4, 1, 28, 28)
    assert float(images.abs().max()) <= 1.0


@pytest.mark.parametrize("model", UNCONDITIONAL)
def test_every_unconditional_preset_trains_on_ring8(model: str, tmp_path: Path, tiny: dict,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    before = _initial_weights(monkeypatch)
    run = ganforge.train(model, data="ring8", steps=6, out=tmp_path / "r", quiet=True, **tiny)
    assert run.sample(5).shape == (5, 2)
    _assert_trained(run, before, 6)


def test_run_folder_contents(tmp_path: Path, tiny: dict) -> None:
    out = tmp_path / "run"
    ganforge.train("dcgan", data="mnist", steps=4, out=out, quiet=True, **tiny)
    for name in ("config.yaml", "meta.json", "log.jsonl", "loss_curve.png",
                 "generator.safetensors", "checkpoints/last.pt", "samples/epoch_000.png"):
        assert (out / name).is_file(), name
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["model"] == "dcgan" and cfg["steps"] == 4 and cfg["width"] == 8
    meta = json.loads((out / "meta.json").read_text())
    assert {k: meta["data_spec"][k] for k in ("kind", "shape", "num_classes")} == {
        "kind": "image", "shape": [1, 28, 28], "num_classes": 10}


def test_console_lines_in_the_classic_format(tmp_path: Path, tiny: dict, capsys) -> None:
    args = ["train", "dcgan", "--data", "mnist", "--steps", "5", "--log-every", "2",
            "--out", str(tmp_path / "r")]
    for key, value in tiny.items():
        if key != "log_every":
            args += ["--" + key.replace("_", "-"), str(value)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert re.search(r"^\[Epoch 0/1\] \[Batch 2/3750\] \[D loss: \d+\.\d{4}\] "
                     r"\[G loss: \d+\.\d{4}\]$", out, re.M)
    assert re.search(r"^Epoch 0 completed in \d+\.\d{2} seconds$", out, re.M)
    assert re.search(r"^Average G loss: -?\d+\.\d{4}, Average D loss: \d+\.\d{4}$", out, re.M)
    assert out.rstrip().endswith("Training complete and models saved.")


def test_gauss1d_pictures_and_animation(tmp_path: Path, tiny: dict) -> None:
    run = ganforge.train("gan", data="gauss1d", steps=40, out=tmp_path / "g", quiet=True, **tiny)
    frames = sorted((run.dir.samples).glob("step_*.png"))
    assert len(frames) == 20
    assert (run.dir.root / "evolution.gif").is_file() and (run.dir.root / "evolution.png").is_file()


def test_toy_landscape_evaluates_d_a_training_batch_at_a_time(
        tmp_path: Path, tiny: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Minibatch discrimination compares every pair of a batch: D's landscape on a 100x100 grid
    in one call would need ~20 GB. The picture must call D with at most a batch of points."""
    from ganforge.tricks.minibatch import MinibatchDiscrimination

    sizes: list[int] = []
    real_forward = MinibatchDiscrimination.forward

    def recording(self: MinibatchDiscrimination, f: torch.Tensor) -> torch.Tensor:
        sizes.append(f.shape[0])
        if f.shape[0] > 256:  # too big to compute: record it and answer cheaply
            return torch.cat([f, f.new_zeros(f.shape[0], self.kernels)], dim=1)
        return real_forward(self, f)

    monkeypatch.setattr(MinibatchDiscrimination, "forward", recording)
    run = ganforge.train("gan", data="ring8", steps=4, sample_every=2, minibatch_disc=True,
                         out=tmp_path / "r", quiet=True, **tiny)
    assert sorted(run.dir.samples.glob("step_*.png"))  # the landscape was drawn
    assert len(sizes) > 100 and max(sizes) <= tiny["batch_size"]


def test_config_file_and_flags_layering(tmp_path: Path, tiny: dict) -> None:
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(yaml.safe_dump({"model": "lsgan", "data": "ring8", "batch-size": 32,
                                        "steps": 2, **{k: v for k, v in tiny.items()
                                                       if k != "batch_size"}}))
    out = tmp_path / "r"
    assert main(["train", "--config", str(cfg_file), "--steps", "3", "--out", str(out)]) == 0
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert (cfg["model"], cfg["loss"], cfg["batch_size"], cfg["steps"]) == ("lsgan", "lsgan", 32, 3)


def test_sample_cli_png_npy_and_interpolation(tmp_path: Path, tiny: dict) -> None:
    import numpy as np
    from PIL import Image

    out = tmp_path / "r"
    ganforge.train("dcgan", data="mnist", steps=2, out=out, quiet=True, **tiny)
    assert main(["sample", str(out), "--n", "16", "--out", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").size == (4 * 28 + 5 * 2, 4 * 28 + 5 * 2)
    assert main(["sample", str(out), "--n", "10", "--out", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (10, 1, 28, 28)
    assert main(["sample", str(out), "--interpolate", "--n", "24", "--steps", "6",
                 "--out", str(tmp_path / "walk.png")]) == 0
    assert Image.open(tmp_path / "walk.png").size[0] == 6 * 28 + 7 * 2


def test_latent_walk_ends_at_its_endpoints(tmp_path: Path, tiny: dict) -> None:
    import torch

    from ganforge.api import slerp

    a, b = torch.randn(3, 8), torch.randn(3, 8)
    assert torch.allclose(slerp(a, b, 0.0), a, atol=1e-5)
    assert torch.allclose(slerp(a, b, 1.0), b, atol=1e-5)


def test_latent_walk_follows_the_great_circle() -> None:
    import numpy as np

    from ganforge.api import slerp

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 8)), rng.normal(size=(4, 8))
    b *= np.linalg.norm(a, axis=1, keepdims=True) / np.linalg.norm(b, axis=1, keepdims=True)
    r = np.linalg.norm(a, axis=1)  # |a| = |b| = r, row by row
    omega = np.arccos((a * b).sum(1) / r**2)
    mid = slerp(torch.from_numpy(a), torch.from_numpy(b), 0.5).numpy()
    # sin(w/2) / sin(w) (a + b) = (a + b) / (2 cos(w/2)); a straight line gives (a + b) / 2
    np.testing.assert_allclose(mid, (a + b) / (2 * np.cos(omega / 2))[:, None], rtol=1e-9)
    for t in (0.1, 0.3, 0.75):
        point = slerp(torch.from_numpy(a), torch.from_numpy(b), t).numpy()
        np.testing.assert_allclose(np.linalg.norm(point, axis=1), r, rtol=1e-9)
        angle = np.arccos(np.clip((point * a).sum(1) / r**2, -1, 1))
        np.testing.assert_allclose(angle, t * omega, rtol=1e-6)  # constant angular speed


def test_ema_run_exports_and_samples_the_averaged_generator(tmp_path: Path, tiny: dict) -> None:
    from safetensors.torch import load_file

    from ganforge.variants import build_variant

    trained = ganforge.train("dcgan", data="mnist", steps=4, ema=0.5, out=tmp_path / "r",
                             quiet=True, **tiny)
    ckpt = load_checkpoint(trained.dir.checkpoint)
    exported = load_file(str(trained.dir.generator_weights))
    raw = {k.removeprefix("generator."): v for k, v in ckpt["variant"].items()
           if k.startswith("generator.")}
    assert exported.keys() == ckpt["ema"]["generator"].keys() == raw.keys()
    assert all(torch.equal(exported[k], ckpt["ema"]["generator"][k]) for k in exported)
    assert any(not torch.equal(exported[k], raw[k]) for k in exported)  # not the raw G
    variant = build_variant(trained.config, trained.spec)
    variant.load_state_dict(ckpt["variant"])
    variant.eval()
    inputs = variant.noise(6, torch.Generator().manual_seed(3))
    with torch.no_grad():
        from_raw = variant.generate(inputs)
        variant.generator.load_state_dict(ckpt["ema"]["generator"])
        from_ema = variant.generate(inputs)
    images = ganforge.load_run(trained.dir.root).sample(6, seed=3)
    assert torch.allclose(images, from_ema, atol=1e-7)
    assert float((images - from_raw).abs().max()) > 1e-5  # tiny 4-step G: outputs near 0


def test_infogan_on_mlp_nets_trains_on_ring8(tmp_path: Path, tiny: dict,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    before = _initial_weights(monkeypatch)  # InfoGAN needs no labels; MLP nets take points
    run = ganforge.train("infogan", data="ring8", arch="mlp", steps=6, out=tmp_path / "r",
                         quiet=True, **tiny)
    assert run.sample(5).shape == (5, 2)
    _assert_trained(run, before, 6)
    images, cols = run.traverse(steps=3)
    assert images.shape == (10 * cols, 2) and cols == 2 * 3
