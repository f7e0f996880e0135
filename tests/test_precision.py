"""--precision: the choice of auto on fake machines, what runs in bf16 and what stays fp32,
meta.json's record, one-line refusals, and bitwise resume under bf16 on a CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import ganforge
from conftest import train_and_interrupt
from ganforge.cli.main import main
from ganforge.errors import ConfigError
from ganforge.losses import gradient_penalty, make_loss
from ganforge.nets.dcgan import DCGANDiscriminator
from ganforge.train import session
from ganforge.train.checkpoint import load_checkpoint
from ganforge.train.precision import Precision, choose, cpu_facts, native_bf16_flag

EPYC = {"fpu", "sse4_2", "avx", "avx2", "fma", "f16c"}  # an AMD EPYC of this CI kind
SAPPHIRE = EPYC | {"avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}


def test_auto_picks_bf16_only_where_the_device_runs_it_natively() -> None:
    assert choose("auto", "cpu", EPYC, "AMD EPYC") == (
        "fp32", "auto: no native bf16 on this CPU (AMD EPYC)")
    assert choose("auto", "cpu", EPYC | {"avx512_bf16"}, "Zen 4") == (
        "bf16", "auto: CPU has avx512_bf16 (Zen 4)")
    assert choose("auto", "cpu", SAPPHIRE, "Xeon")[0] == "bf16"
    assert native_bf16_flag(SAPPHIRE) == "amx_bf16" and native_bf16_flag(EPYC) is None
    assert choose("auto", "cuda", cuda_capability=(8, 0))[0] == "bf16"
    name, why = choose("auto", "cuda", cuda_capability=(7, 5))
    assert name == "fp32" and "7.5 < 8.0" in why
    assert choose("auto", "mps") == ("fp32", "auto: fp32 on mps")
    assert choose("bf16", "cpu", EPYC) == ("bf16", "asked for with --precision")


def test_fp16_off_cuda_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    with pytest.raises(ConfigError, match="fp16 needs a CUDA GPU"):
        choose("fp16", "cpu")
    code = main(["train", "gan", "--data", "ring8", "--steps", "1", "--device", "cpu",
                 "--precision", "fp16", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "--precision bf16" in err
    assert not (tmp_path / "r").exists()


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\n"
                    "flags\t\t: fpu avx512f avx512_bf16 amx_bf16\n\nprocessor\t: 1\n"
                    "model name\t: other\nflags\t\t: fpu\n")
    flags, name = cpu_facts(info)
    assert name == "Intel(R) Xeon(R) Platinum 8480+" and {"avx512_bf16", "amx_bf16"} <= flags
    assert "fpu" in flags and cpu_facts(tmp_path / "missing") == (frozenset(), "unknown CPU")


def test_bf16_runs_the_forward_passes_and_keeps_losses_fp32() -> None:
    torch.manual_seed(0)
    d = DCGANDiscriminator(1, 28, width=8)
    x = torch.randn(4, 1, 28, 28)
    with Precision("bf16", "", "cpu").autocast():
        out = d(x)
        loss = make_loss("nonsaturating").d_loss(out, d(-x))
        gp = gradient_penalty(d, x, -x)
    assert out.dtype == torch.bfloat16
    assert loss.dtype == torch.float32 and gp.dtype == torch.float32
    assert torch.isfinite(gp)
    with Precision("fp32", "", "cpu").autocast():
        assert d(x).dtype == torch.float32


def test_meta_records_the_precision_and_bf16_changes_the_numbers(tmp_path: Path,
                                                                 tiny: dict) -> None:
    for p in ("fp32", "bf16"):
        ganforge.train("dcgan", steps=2, precision=p, out=tmp_path / p, quiet=True, **tiny)
    meta = json.loads((tmp_path / "bf16" / "meta.json").read_text())
    assert meta["precision"] == "bf16" and meta["precision_why"] == "asked for with --precision"
    a, b = (load_checkpoint(tmp_path / p / "checkpoints" / "last.pt") for p in ("fp32", "bf16"))
    assert any(not torch.equal(v, b["variant"][k]) for k, v in a["variant"].items()
               if v.is_floating_point())  # the bf16 run really computed in bf16
    state = b["optimizers"]["G"]["state"]
    assert all(s["exp_avg"].dtype == torch.float32 for s in state.values())  # fp32 optimiser
    assert all(v.dtype == torch.float32 for k, v in b["variant"].items() if "weight" in k)


def test_resume_under_bf16_is_bitwise(tmp_path: Path, tiny: dict,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    opts = {**tiny, "precision": "bf16", "checkpoint_every": 1000}
    train_and_interrupt("dcgan", 6, tmp_path, monkeypatch, **opts)
    session.resume(tmp_path / "cut", quiet=True)
    full, cut = (load_checkpoint(tmp_path / d / "checkpoints" / "last.pt") for d in ("full", "cut"))
    assert full["counters"]["step"] == cut["counters"]["step"] == 6
    for key, value in full["variant"].items():
        assert torch.equal(value, cut["variant"][key]), key
    for group, opt in full["optimizers"].items():
        for i, s in opt["state"].items():
            other = cut["optimizers"][group]["state"][i]
            assert all(torch.equal(s[k], other[k]) for k in s), (group, i)
    assert (tmp_path / "full" / "generator.safetensors").read_bytes() == (
        tmp_path / "cut" / "generator.safetensors").read_bytes()
