"""Speed settings that do not change what is trained: --threads, --channels-last, --compile's
fallback, fused Adam (and old checkpoints without it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

import ganforge
from ganforge.api import make_config
from ganforge.errors import ConfigError
from ganforge.nets.dcgan import DCGANGenerator
from ganforge.nets.mlp import MLPGenerator
from ganforge.train import accel
from ganforge.train.checkpoint import load_checkpoint
from ganforge.train.optim import make_optimizers, with_flags_of


def test_threads_default_to_physical_cores_or_omp_num_threads() -> None:
    # 4 CPUs, two hyper-threads on each of two cores; a CPU without topology counts alone
    siblings = {0: "0,2", 2: "0,2", 1: "1,3", 3: "1,3"}
    assert accel.physical_cores({0, 1, 2, 3}, siblings) == 2
    assert accel.physical_cores({0, 2}, siblings) == 1
    assert accel.physical_cores({0, 5}, siblings) == 2 and accel.physical_cores(set(), {}) == 1
    assert accel.thread_count(3, {"OMP_NUM_THREADS": "1"}) == 3
    assert accel.thread_count(0, {"OMP_NUM_THREADS": "1"}) == 1
    assert accel.thread_count(0, {"OMP_NUM_THREADS": "x"}) == accel.machine_threads() >= 1


def test_threads_flag_sets_torch_and_meta(tmp_path: Path, tiny: dict) -> None:
    try:
        run = ganforge.train("gan", data="ring8", steps=1, threads=2, out=tmp_path / "r",
                             quiet=True, **tiny)
        assert torch.get_num_threads() == 2 and run.dir.meta()["threads"] == 2
    finally:
        torch.set_num_threads(1)


def test_channels_last_auto_is_for_conv_nets_on_cpu_and_cuda() -> None:
    conv, mlp = DCGANGenerator(8, 1, 28, 8), MLPGenerator(8, (1, 28, 28), (16,))
    cpu, mps = torch.device("cpu"), torch.device("mps")
    assert accel.wants_channels_last("auto", cpu, conv)
    assert not accel.wants_channels_last("auto", cpu, mlp)
    assert not accel.wants_channels_last("auto", mps, conv)
    assert not accel.wants_channels_last("off", cpu, conv)
    assert accel.wants_channels_last("on", mps, conv)
    assert not accel.wants_channels_last("auto", cpu, nn.Sequential(conv, nn.InstanceNorm2d(1)))
    params = list(conv.parameters())
    accel.to_channels_last(conv)
    assert [id(p) for p in conv.parameters()] == [id(p) for p in params]  # optimisers unaffected
    w = conv.net[0].weight
    assert w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous()


def test_channels_last_changes_the_layout_not_the_numbers(tmp_path: Path, tiny: dict) -> None:
    for mode in ("on", "off"):
        ganforge.train("dcgan", steps=2, channels_last=mode, out=tmp_path / mode, quiet=True,
                       **tiny)
    on, off = (load_checkpoint(tmp_path / m / "checkpoints" / "last.pt")["variant"]
               for m in ("on", "off"))
    for key, value in off.items():
        assert torch.allclose(value.float(), on[key].float(), rtol=1e-4, atol=1e-5), key
    assert (tmp_path / "on" / "generator.safetensors").stat().st_size > 0  # saved contiguous


def test_data_stays_put_off_cuda() -> None:
    from ganforge.data.dataset import InMemoryDataset

    data = InMemoryDataset("d", torch.zeros(4, 1, 2, 2, dtype=torch.uint8), torch.zeros(4))
    images = data.data
    accel.keep_on_device(data, torch.device("cpu"))
    assert data.data is images  # only a CUDA device takes the data in


def test_compile_falls_back_to_eager_in_one_line(tmp_path: Path, tiny: dict,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    def no_compiler(*args: object, **kwargs: object) -> object:
        raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found\nin PATH")

    monkeypatch.setattr(torch, "compile", no_compiler)
    run = ganforge.train("dcgan", steps=2, compile=True, out=tmp_path / "c", quiet=True, **tiny)
    ganforge.train("dcgan", steps=2, out=tmp_path / "e", quiet=True, **tiny)
    lines = [x for x in capsys.readouterr().out.splitlines() if "--compile" in x]
    assert len(lines) == 1 and "No working C++ compiler found in PATH" in lines[0]
    assert lines[0].endswith("training eagerly") and run.dir.config().compile
    assert (tmp_path / "c" / "generator.safetensors").read_bytes() == (
        tmp_path / "e" / "generator.safetensors").read_bytes()  # the eager run, bit for bit


def test_compile_refuses_double_backward() -> None:
    with pytest.raises(ConfigError, match="--compile cannot differentiate twice"):
        ganforge.train("wgan-gp", steps=1, compile=True)


def test_adam_is_fused_and_old_checkpoints_take_the_running_flags() -> None:
    net = nn.Linear(3, 2)
    (opt,) = make_optimizers(make_config("dcgan"), {"G": list(net.parameters())}).values()
    assert opt.defaults["fused"] is True
    net(torch.ones(1, 3)).sum().backward()
    opt.step()
    saved = opt.state_dict()
    saved["param_groups"][0].update(fused=None, foreach=None)  # as written before fused Adam
    fixed = with_flags_of(opt, saved)
    assert fixed["param_groups"][0]["fused"] is True and saved["param_groups"][0]["fused"] is None
    opt.load_state_dict(fixed)
    opt.step()
    assert opt.param_groups[0]["fused"] is True
