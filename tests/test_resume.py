"""Stopping and resuming ends with bitwise the same weights as an uninterrupted run (CPU)."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest
import torch

import ganforge
from conftest import flat_state
from ganforge.api import make_config
from ganforge.cli.main import main
from ganforge.train import session
from ganforge.train.checkpoint import load_checkpoint, save_checkpoint
from ganforge.train.trainer import Trainer

CASES = [("dcgan", "mnist", 7), ("wgan-gp", "ring8", 12), ("wgan", "mnist", 11)]


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    state = load_checkpoint(run_dir / "checkpoints" / "last.pt")
    optimisers = flat_state(state["optimizers"])  # the tensors: moments, step counts
    return {**state["variant"],
            **{f"opt.{k}": v for k, v in optimisers.items() if isinstance(v, torch.Tensor)}}


def _assert_bitwise_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def _count_steps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make Trainer.train_step record the step counter at each call; returns the record."""
    calls: list[int] = []
    original = Trainer.train_step

    def counted(self: Trainer, batch):  # noqa: ANN001, ANN202
        calls.append(self.step)
        return original(self, batch)

    monkeypatch.setattr(Trainer, "train_step", counted)
    return calls


def _perturb_generator(run_dir: Path) -> None:
    """Scale the first generator weight in the run's checkpoint by 1.01."""
    path = run_dir / "checkpoints" / "last.pt"
    state = load_checkpoint(path)
    key = next(k for k in state["variant"] if k.startswith("generator.") and k.endswith("weight"))
    state["variant"][key] = state["variant"][key] * 1.01
    save_checkpoint(path, state)


@pytest.mark.parametrize(("model", "data", "steps"), CASES)
def test_stop_and_resume_is_bitwise_identical(model: str, data: str, steps: int, tmp_path: Path,
                                              tiny: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    opts = {**tiny, "checkpoint_every": 1000, "ema": 0.9}
    ganforge.train(model, data=data, steps=steps, out=tmp_path / "full", quiet=True, **opts)
    ganforge.train(model, data=data, steps=steps // 2, out=tmp_path / "part", quiet=True, **opts)
    shutil.copytree(tmp_path / "part", tmp_path / "perturbed")
    calls = _count_steps(monkeypatch)
    session.resume(tmp_path / "part", {"steps": steps}, quiet=True)
    assert calls == list(range(steps // 2, steps))  # only the remaining steps ran
    _assert_bitwise_equal(_weights(tmp_path / "full"), _weights(tmp_path / "part"))
    full = (tmp_path / "full" / "generator.safetensors").read_bytes()
    assert full == (tmp_path / "part" / "generator.safetensors").read_bytes()
    steps_logged = [r["step"] for r in ganforge.load_run(tmp_path / "part").dir.read_log()]
    assert steps_logged == list(range(1, steps + 1))  # no duplicated or lost log records
    # The contrast: the resumed run really continues from the checkpoint's weights.
    _perturb_generator(tmp_path / "perturbed")
    session.resume(tmp_path / "perturbed", {"steps": steps}, quiet=True)
    full_w, perturbed_w = _weights(tmp_path / "full"), _weights(tmp_path / "perturbed")
    assert any(not torch.equal(full_w[k], perturbed_w[k]) for k in full_w if "discriminator" in k)
    assert full != (tmp_path / "perturbed" / "generator.safetensors").read_bytes()


def test_ctrl_c_saves_a_checkpoint_and_resume_matches(tmp_path: Path, tiny: dict,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    opts = {**tiny, "checkpoint_every": 1000}
    ganforge.train("dcgan", data="mnist", steps=8, out=tmp_path / "full", quiet=True, **opts)

    original = Trainer.train_step

    def interrupt_at_step_3(self: Trainer, batch):  # noqa: ANN001, ANN202
        stats = original(self, batch)
        if self.step == 2:  # the 3rd step: a real SIGINT arrives while it runs
            os.kill(os.getpid(), signal.SIGINT)
        return stats

    monkeypatch.setattr(Trainer, "train_step", interrupt_at_step_3)
    result = session.start(make_config("dcgan", data="mnist", steps=8, out=str(tmp_path / "cut"),
                                       **opts), quiet=True)
    assert result.status == "interrupted" and result.step == 3
    assert load_checkpoint(tmp_path / "cut" / "checkpoints" / "last.pt")["counters"]["step"] == 3
    monkeypatch.setattr(Trainer, "train_step", original)
    assert main(["train", "--resume", str(tmp_path / "cut")]) == 0
    _assert_bitwise_equal(_weights(tmp_path / "full"), _weights(tmp_path / "cut"))


def test_resume_refuses_to_change_the_run(tmp_path: Path, tiny: dict, capsys) -> None:
    ganforge.train("gan", data="ring8", steps=2, out=tmp_path / "r", quiet=True, **tiny)
    assert main(["train", "--resume", str(tmp_path / "r"), "--lr-d", "0.1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "cannot change --lr-d when resuming" in err


def test_checkpoint_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ck.pt"
    save_checkpoint(path, {"a": torch.ones(3)})

    def crash(obj: object, f: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"a": torch.zeros(3)})
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(path)["a"], torch.ones(3))  # the old one is intact
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]  # no temporary file left behind
