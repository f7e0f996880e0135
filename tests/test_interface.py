"""The variant interface: the template trains, phases run in the variant's order over known
groups, several exports each get an EMA, the learning-rate schedule follows its closed form and
resumes bitwise across the decay boundary, and every option is held to its type and range."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

import ganforge
from conftest import train_and_interrupt
from ganforge.api import make_config
from ganforge.cli.main import main
from ganforge.config import TrainConfig
from ganforge.data import load_dataset
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError
from ganforge.nets.mlp import MLPGenerator
from ganforge.train import session
from ganforge.train.checkpoint import load_checkpoint
from ganforge.train.run import RunDir
from ganforge.train.schedule import lr_factor
from ganforge.train.trainer import Trainer
from ganforge.variants.base import Nets, Phase
from ganforge.variants.template import TemplateOptions, TemplateVariant

SMALL = {"hidden": 8, "latent_dim": 4, "batch_size": 16, "log_every": 1000, "monitor_every": 0}


def _fit(variant_cls: type[TemplateVariant], tmp_path: Path, steps: int = 3, **opts: object
         ) -> tuple[Trainer, RunDir]:
    cfg = make_config("gan", data="ring8", steps=steps, **{**SMALL, **opts})
    cfg.options = TemplateOptions()
    data = load_dataset("ring8")
    torch.manual_seed(0)
    variant = variant_cls(cfg, data.spec())
    run = RunDir.create(tmp_path / "run", cfg, data.spec(), {})
    trainer = Trainer(cfg, variant, data, run, torch.device("cpu"), quiet=True)
    trainer.fit()
    return trainer, run


def test_the_template_is_real_code_that_trains(tmp_path: Path) -> None:
    cfg = make_config("gan", data="ring8", **SMALL)
    fresh = TemplateVariant(cfg, DataSpec("points", (2,)))
    before = {k: v.clone() for k, v in fresh.state_dict().items()}
    torch.manual_seed(0)
    trainer, run = _fit(TemplateVariant, tmp_path, steps=2)
    assert trainer.step == 2 and run.generator_weights.is_file()
    records = [r for r in run.read_log() if "d_loss" in r]
    assert len(records) == 2 and all(torch.isfinite(torch.tensor(r["d_loss"])) for r in records)
    moved = trainer.variant.state_dict()
    assert any(not torch.equal(before[k], moved[k]) for k in before)


class _Recorder(TemplateVariant):
    """The template with G's phase before D's, recording the order of the calls."""

    calls: list[str]

    def phases(self, n_critic: int) -> list[Phase]:
        self.calls = []

        def logged(name: str, fn):  # noqa: ANN001, ANN202
            return lambda batch: (self.calls.append(name), fn(batch))[1]

        return [Phase("G", logged("G", self.generator_loss), ema=True),
                Phase("D", logged("D", self.discriminator_loss), every=2)]


def test_phases_run_in_the_variants_order_and_interval(tmp_path: Path) -> None:
    trainer, _ = _fit(_Recorder, tmp_path, steps=4)
    assert trainer.variant.calls == ["G", "G", "D", "G", "G", "D"]  # type: ignore[attr-defined]


class _Stray(TemplateVariant):
    def phases(self, n_critic: int) -> list[Phase]:
        return [Phase("D", self.discriminator_loss), Phase("Q", self.generator_loss)]


class _Idle(TemplateVariant):
    def phases(self, n_critic: int) -> list[Phase]:
        return [Phase("D", self.discriminator_loss)]


def test_unknown_and_idle_parameter_groups_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"_Stray.phases\(\) names parameter group\(s\) Q"):
        _fit(_Stray, tmp_path)
    with pytest.raises(ConfigError, match=r"defines G, which no phase trains"):
        _fit(_Idle, tmp_path / "b")


class _TwoGenerators(TemplateVariant):
    """Two exported generators in one group (like CycleGAN's G_AB and G_BA)."""

    def __init__(self, cfg: TrainConfig, spec: DataSpec) -> None:
        super().__init__(cfg, spec)
        self.other = MLPGenerator(cfg.latent_dim, spec.shape, (8,), False, False)

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        groups = super().param_groups()
        return {**groups, "G": [*groups["G"], *self.other.parameters()]}

    def exports(self) -> Nets:
        return {"g_ab": self.generator, "g_ba": self.other}

    def generator_loss(self, batch):  # noqa: ANN001, ANN201
        terms = super().generator_loss(batch)
        terms["loss"] = terms["loss"] + self.other(self.noise(batch.size)["z"]).pow(2).mean()
        return terms


def test_every_export_is_written_and_averaged(tmp_path: Path) -> None:
    trainer, run = _fit(_TwoGenerators, tmp_path, steps=3, ema=0.5)
    ckpt = load_checkpoint(run.checkpoint)
    for name, raw in (("g_ab", "generator."), ("g_ba", "other.")):
        saved = load_file(str(run.weights(name)))
        assert saved.keys() == ckpt["ema"][name].keys()
        for key, value in saved.items():
            assert torch.equal(value, ckpt["ema"][name][key])
        weight = next(k for k in saved if k.endswith("weight"))
        assert not torch.equal(saved[weight], ckpt["variant"][raw + weight])  # averaged
    assert not run.generator_weights.exists()


@pytest.mark.parametrize(("step", "total", "start", "expected"), [
    (0, 10, 0.5, 1.0), (4, 10, 0.5, 1.0), (5, 10, 0.5, 1 - 1 / 6), (9, 10, 0.5, 1 - 5 / 6),
    (0, 200, 0.5, 1.0), (99, 200, 0.5, 1.0), (100, 200, 0.5, 100 / 101), (199, 200, 0.5, 1 / 101),
    (0, 8, 0.0, 1 - 1 / 9)])
def test_linear_schedule_closed_form(step: int, total: int, start: float, expected: float) -> None:
    # CycleGAN's rule 1 - max(0, e + 1 - n) / (n_decay + 1), here per step
    assert lr_factor("linear", step, total, start) == pytest.approx(expected, abs=1e-12)
    assert lr_factor("constant", step, total, start) == 1.0


def test_trainer_applies_the_schedule(tmp_path: Path) -> None:
    trainer, run = _fit(TemplateVariant, tmp_path, steps=6, lr_policy="linear", lr_g=1e-3,
                        lr_d=2e-3)
    logged = [r["lr_factor"] for r in run.read_log() if "lr_factor" in r]
    assert logged == pytest.approx([1, 1, 1, 1 - 1 / 4, 1 - 2 / 4, 1 - 3 / 4])
    assert trainer.opts["G"].param_groups[0]["lr"] == pytest.approx(1e-3 / 4)
    assert trainer.opts["D"].param_groups[0]["lr"] == pytest.approx(2e-3 / 4)


def test_resume_across_the_decay_boundary_is_bitwise(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    opts = {**SMALL, "lr_policy": "linear", "checkpoint_every": 1000, "data": "ring8"}
    # cut at step 3; the decay starts at step 5
    train_and_interrupt("gan", 10, tmp_path, monkeypatch, **opts)
    session.resume(tmp_path / "cut", quiet=True)
    full, part = (load_checkpoint(tmp_path / d / "checkpoints" / "last.pt")["variant"]
                  for d in ("full", "cut"))
    for key, value in full.items():
        assert torch.equal(value, part[key]), key
    factors = [r["lr_factor"] for r in RunDir(tmp_path / "cut").read_log() if "lr_factor" in r]
    assert factors == pytest.approx([1.0] * 5 + [1 - k / 6 for k in range(1, 6)])
    # the contrast: without the schedule the same run ends elsewhere
    ganforge.train("gan", steps=10, out=tmp_path / "flat", quiet=True,
                   **{**opts, "lr_policy": "constant"})
    flat = load_checkpoint(tmp_path / "flat" / "checkpoints" / "last.pt")["variant"]
    assert any(not torch.equal(v, flat[k]) for k, v in full.items())


# ----- options: typed, ranged, per variant ------------------------------------------------------
def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, (out.err + out.out).strip()


BAD = {
    "nan": (["train", "gan", "--lr-g", "nan"], "--lr-g must be a finite number, got nan"),
    "inf": (["train", "gan", "--lr-d", "inf"], "--lr-d must be a finite number, got inf"),
    "zero lr": (["train", "gan", "--lr-g", "0"], "--lr-g must be > 0, got 0.0"),
    "beta": (["train", "gan", "--beta1", "1.5"], "--beta1 must be >= 0 and < 1, got 1.5"),
    "ema": (["train", "gan", "--ema", "1"], "--ema must be >= 0 and < 1, got 1.0"),
    "choice": (["train", "gan", "--lr-policy", "cosine"], "choose from: constant, linear"),
    "n_cat": (["train", "infogan", "--n-cat", "1"], "--n-cat must be 0 (no categorical code)"),
    "own option of another model": (["train", "dcgan", "--n-cat", "3"],
                                    "unrecognized arguments: --n-cat"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_values_fail_in_one_line(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    args, expected = BAD[case]
    code, err = _cli(args, capsys)
    assert code == 2 and "\n" not in err and expected in err, err


@pytest.mark.parametrize(("body", "expected"), [
    ('batch-size: "abc"\n', "--batch-size must be an integer, got 'abc' (str)"),
    ("batch-size: 2.5\n", "--batch-size must be an integer, got 2.5"),
    ("lr-g: .nan\n", "--lr-g must be a finite number, got nan"),
    ("lr-g: true\n", "--lr-g must be a number, got True (bool)"),
    ("steps: 0\n", "--steps must be >= 1, got 0"),
    ("spectral-norm: 3\n", "--spectral-norm must be true or false, got 3"),
    ("n-cat: 10\n", "unknown option 'n_cat'"),  # infogan's option in a dcgan config
    ("batch-size: null\n", "--batch-size needs a value"),
])
def test_config_file_values_are_typed(body: str, expected: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(body)
    code, err = _cli(["train", "dcgan", "--config", str(path)], capsys)
    assert code == 2 and "\n" not in err and expected in err, err


def test_a_models_help_lists_its_own_options(capsys: pytest.CaptureFixture[str]) -> None:
    _, out = _cli(["train", "infogan", "--help"], capsys)
    assert "options of the infogan variant" in out and "--info-lambda" in out
    _, out = _cli(["train", "dcgan", "--help"], capsys)
    assert "--info-lambda" not in out and "--lr-policy" in out


def test_variant_options_round_trip_through_the_run_folder(tmp_path: Path) -> None:
    run = ganforge.train("infogan", data="mnist", steps=1, out=tmp_path / "r", quiet=True,
                         width=4, batch_size=8, grid_size=4, n_cat=3, n_cont=1,
                         info_lambda=0.5, log_every=1000, monitor_every=0)
    o = run.config.options
    assert (type(o).__name__, o.n_cat, o.n_cont, o.info_lambda) == ("InfoGANOptions", 3, 1, 0.5)
    assert "n_cat: 3" in run.dir.config_path.read_text()


def test_snapshots_keep_the_exports_along_the_way(tmp_path: Path) -> None:
    _, run = _fit(TemplateVariant, tmp_path, steps=4, snapshot_every=2)
    kept = sorted(p.name for p in (run.root / "snapshots").iterdir())
    assert kept == ["step_0000002", "step_0000004"]
    last = load_file(str(run.root / "snapshots" / "step_0000004" / "generator.safetensors"))
    final = load_file(str(run.generator_weights))
    assert all(torch.equal(last[k], final[k]) for k in final)
    first = load_file(str(run.root / "snapshots" / "step_0000002" / "generator.safetensors"))
    assert any(not torch.equal(first[k], final[k]) for k in final)
