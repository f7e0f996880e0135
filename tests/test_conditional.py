"""cgan, acgan and infogan: how labels and codes enter the networks, the losses against their
papers' formulas, sample grids, and class-conditional sampling / traversals from the CLI."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganforge.api import Run, make_config
from ganforge.cli.main import main
from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError
from ganforge.variants import build_variant
from ganforge.variants.conditional import grid_rows
from ganforge.variants.infogan import info_loss

MNIST = DataSpec("image", (1, 28, 28), 10)
RING = DataSpec("points", (2,), None)
TINY = {"width": 4, "hidden": 8, "latent_dim": 6, "batch_size": 8}
CONDITIONAL = ("cgan", "acgan", "infogan")
CLI_TINY = ["--width", "4", "--latent-dim", "6", "--batch-size", "8", "--steps", "2",
            "--monitor-every", "0", "--log-every", "1000"]


def _batch(n: int = 8) -> Batch:
    return Batch(torch.rand(n, 1, 28, 28) * 2 - 1, torch.randint(0, 10, (n,)))


def test_list_shows_the_conditional_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(f"  {m} " in out for m in (*CONDITIONAL, "dcgan-ttur"))


@pytest.mark.parametrize("model", ["cgan", "acgan"])
def test_conditional_model_on_unlabelled_data_is_one_line_error(model: str) -> None:
    with pytest.raises(ConfigError, match="needs a labelled dataset") as err:
        build_variant(make_config(model, data="ring8", **TINY), RING)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("model", ["cgan", "acgan"])
@pytest.mark.parametrize("arch", ["dcgan", "mlp"])
def test_label_enters_the_generator(model: str, arch: str) -> None:
    torch.manual_seed(0)
    v = build_variant(make_config(model, arch=arch, **TINY), MNIST).eval()
    inputs = v.noise(4, torch.Generator().manual_seed(0))
    other = {**inputs, "y": (inputs["y"] + 1) % 10}
    assert not torch.allclose(v.generate(inputs), v.generate(other))


def test_cgan_d_reads_the_label_and_fakes_share_the_batch_labels() -> None:
    torch.manual_seed(0)
    v = build_variant(make_config("cgan", **TINY), MNIST).eval()
    x, y = torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, 3])
    assert not torch.allclose(v.discriminator(x, y), v.discriminator(x, (y + 5) % 10))
    v.train()
    batch = _batch()
    torch.manual_seed(1)
    terms = v.discriminator_loss(batch)
    torch.manual_seed(1)  # the same noise, by hand: eq. 2 of Mirza & Osindero with y = batch.y
    z = v.noise(8)["z"]
    with torch.no_grad():
        fake = v.generate({"z": z, "y": batch.y})
    real_out, fake_out = v.discriminator(batch.x, batch.y), v.discriminator(fake, batch.y)
    want = (F.binary_cross_entropy_with_logits(real_out, torch.ones(8))
            + F.binary_cross_entropy_with_logits(fake_out, torch.zeros(8)))
    assert float(terms["loss"]) == pytest.approx(float(want), rel=1e-5)


def test_acgan_losses_are_ls_plus_lc_and_lc_minus_ls() -> None:
    torch.manual_seed(0)
    v = build_variant(make_config("acgan", **TINY), MNIST)
    batch = _batch()
    torch.manual_seed(1)
    d_terms = v.discriminator_loss(batch)
    torch.manual_seed(1)
    inputs = v.noise(8)
    with torch.no_grad():
        fake = v.generate(inputs)
    (r, rf), (f, ff) = (v.discriminator.forward_features(x) for x in (batch.x, fake))
    l_s = (F.binary_cross_entropy_with_logits(r, torch.ones(8))
           + F.binary_cross_entropy_with_logits(f, torch.zeros(8)))
    l_c = (F.cross_entropy(v.classifier(rf), batch.y)
           + F.cross_entropy(v.classifier(ff), inputs["y"]))
    assert float(d_terms["loss"]) == pytest.approx(float(l_s + l_c), rel=1e-5)
    torch.manual_seed(2)
    g_terms = v.generator_loss(batch)
    torch.manual_seed(2)
    inputs = v.noise(8)
    out, feats = v.discriminator.forward_features(v.generate(inputs))
    want = (F.binary_cross_entropy_with_logits(out, torch.ones(8))  # non-saturating -L_S
            + F.cross_entropy(v.classifier(feats), inputs["y"]))  # -L_C
    assert float(g_terms["loss"]) == pytest.approx(float(want), rel=1e-5)


@pytest.mark.parametrize("model", CONDITIONAL)
def test_conditional_models_work_with_wgan_gp_on_conv_nets(model: str) -> None:
    torch.manual_seed(0)
    cfg = make_config(model, loss="wasserstein", gp_weight=10.0, n_critic=5, d_norm="none",
                      beta1=0.0, beta2=0.9, **TINY)
    v = build_variant(cfg, MNIST)
    assert not v.probabilistic
    d_terms = v.discriminator_loss(_batch())
    assert "gp" in d_terms and math.isfinite(float(d_terms["loss"]))
    d_terms["loss"].backward()
    v.generator_loss(_batch())["loss"].backward()


def test_info_loss_is_cross_entropy_plus_gaussian_nll() -> None:
    q = torch.randn(6, 12)
    codes = {"c_cat": torch.randint(0, 10, (6,)), "c_cont": torch.rand(6, 2) * 2 - 1}
    cat, cont = info_loss(q, codes, 10)
    assert float(cat) == pytest.approx(float(F.cross_entropy(q[:, :10], codes["c_cat"])))
    nll = -torch.distributions.Normal(q[:, 10:], 1.0).log_prob(codes["c_cont"]).sum(1).mean()
    assert float(cont) == pytest.approx(float(nll) - math.log(2 * math.pi), rel=1e-5)


def test_infogan_defaults_and_q_learns_with_d() -> None:
    cfg = make_config("infogan", width=4)
    o = cfg.options
    assert (cfg.latent_dim, o.n_cat, o.n_cont, o.info_lambda) == (62, 10, 2, 1.0)
    assert (cfg.lr_d, cfg.lr_g) == (2e-4, 1e-3)
    paper = build_variant(make_config("infogan"), MNIST)  # appendix C.1: FC 1024, 7x7x128, ...
    assert paper.discriminator.feature_dim == 1024 and paper.q_head[0].out_features == 128
    assert paper.generator.net.fc[3].out_features == 128 * 7 * 7
    v = build_variant(make_config("infogan", **TINY), MNIST)
    groups = v.param_groups()
    q_ids = {id(p) for p in v.q_head.parameters()}
    assert q_ids <= {id(p) for p in groups["D"]} and not q_ids & {id(p) for p in groups["G"]}
    noise = v.noise(500, torch.Generator().manual_seed(0))
    assert set(noise) == {"z", "c_cat", "c_cont"} and noise["z"].shape == (500, 6)
    assert float(noise["c_cont"].abs().max()) <= 1 and float(noise["z"].abs().max()) <= 1
    assert set(noise["c_cat"].tolist()) == set(range(10))
    terms = v.generator_loss(_batch())
    bound = math.log(10) - float(terms["info_cat"])  # H(c) - CE
    assert float(terms["mi_cat"]) == pytest.approx(bound, abs=1e-6)


def test_infogan_traversal_layout() -> None:
    v = build_variant(make_config("infogan", **TINY), MNIST)
    inputs, cols = v.traversal_inputs(5, torch.Generator().manual_seed(0))
    assert cols == 10 and inputs["z"].shape == (100, 6)
    assert torch.equal(inputs["z"], inputs["z"][:1].expand(100, -1))  # one z throughout
    cat = inputs["c_cat"].view(10, 10)
    assert torch.equal(cat, torch.arange(10)[:, None].expand(10, 10))  # row = categorical value
    cont = inputs["c_cont"].view(10, 2, 5, 2)  # rows, swept code, step, code
    sweep = torch.linspace(-2, 2, 5)
    assert torch.equal(cont[:, 0, :, 0], sweep.expand(10, 5)) and not cont[:, 0, :, 1].any()
    assert torch.equal(cont[:, 1, :, 1], sweep.expand(10, 5)) and not cont[:, 1, :, 0].any()


@pytest.mark.parametrize("model", CONDITIONAL)
def test_training_grids_show_one_row_per_class(model: str) -> None:
    v = build_variant(make_config(model, **TINY), MNIST)
    inputs = v.grid_inputs(100, torch.Generator().manual_seed(0))
    labels = inputs["c_cat" if model == "infogan" else "y"].view(10, 10)
    assert torch.equal(labels, torch.arange(10)[:, None].expand(10, 10))
    assert torch.equal(grid_rows(64, 10).view(8, 8)[:, 0], torch.arange(8))
    assert make_config(model).grid_size == 100


# ----- from the command line ----------------------------------------------------------------
@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for model in ("cgan", "infogan"):
        out[model] = root / model
        assert main(["train", model, "--out", str(out[model]), "--ema", "0.9", *CLI_TINY]) == 0
    return out


def test_cli_class_sampling(runs: dict[str, Path], tmp_path: Path) -> None:
    run = str(runs["cgan"])
    assert main(["sample", run, "--class", "7", "--n", "6", "--out", str(tmp_path / "a.npy")]) == 0
    assert np.load(tmp_path / "a.npy").shape == (6, 1, 28, 28)
    loaded = Run(run)
    inputs = loaded.variant.noise(6, torch.Generator().manual_seed(0))
    inputs["y"] = torch.full((6,), 7)
    assert torch.allclose(torch.from_numpy(np.load(tmp_path / "a.npy")), loaded.generate(inputs))
    assert main(["sample", run, "--out", str(tmp_path / "grid.npy")]) == 0  # default: by class
    assert np.load(tmp_path / "grid.npy").shape == (100, 1, 28, 28)
    assert main(["sample", run, "--class", "all", "--out", str(tmp_path / "grid.png")]) == 0
    assert (tmp_path / "grid.png").stat().st_size > 0
    images, per_row = loaded.class_grid(3)
    assert images.shape[0] == 30 and per_row == 3


def test_cli_traversal(runs: dict[str, Path], tmp_path: Path) -> None:
    run, out = str(runs["infogan"]), tmp_path / "t.npy"
    assert main(["sample", run, "--traverse", "--steps", "5", "--out", str(out)]) == 0
    assert np.load(out).shape == (100, 1, 28, 28)  # 10 categorical rows x (2 codes x 5 steps)
    assert main(["sample", run, "--traverse", "--out", str(tmp_path / "t.png")]) == 0


def test_cli_errors_are_one_line(runs: dict[str, Path], tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "x.png")
    cgan, infogan = runs["cgan"], runs["infogan"]
    cases = [
        (["sample", str(cgan), "--traverse", "--out", out],
         f"run '{cgan}' (cgan) has no latent codes to traverse; --traverse needs an infogan run"),
        (["sample", str(cgan), "--class", "10", "--out", out],
         "--class must be in 0..9 for this run, got 10"),
        (["sample", str(infogan), "--class", "3", "--out", out],
         f"run '{infogan}' (infogan) takes no class labels; --class needs a conditional model: "
         "cgan, acgan"),
        (["train", "cgan", "--data", "ring8", "--out", str(tmp_path / "r"), *CLI_TINY],
         "cgan needs a labelled dataset (mnist, fashion-mnist), but 'ring8' has no class labels; "
         "use an unconditional model (dcgan)"),
    ]
    for args, message in cases:
        assert main(args) == 2, args
        assert capsys.readouterr().err == f"ganforge: error: {message}\n"
