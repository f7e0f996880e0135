"""--on-failure rollback: on NaN the trainer goes back to the last good checkpoint with both
learning rates halved, notes it in the log and goes on, at most --max-rollbacks times."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ganforge.api import make_config
from ganforge.cli.main import main
from ganforge.train import session
from ganforge.train.checkpoint import load_checkpoint
from ganforge.train.rollback import Rollback, is_rollback
from ganforge.train.run import RunDir

TINY = {"width": 8, "hidden": 16, "latent_dim": 8, "batch_size": 16, "grid_size": 16,
        "log_every": 1000, "monitor_every": 0, "sample_every": 1000}
GAN = ["train", "gan", "--data", "ring8", "--width", "8", "--hidden", "16", "--latent-dim", "8",
       "--batch-size", "16", "--monitor-every", "0", "--sample-every", "1000"]


def test_rollback_restores_halves_the_learning_rates_and_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ganforge.variants.unconditional import Unconditional

    real = Unconditional.discriminator_loss
    poisoned: list[int] = []

    def loss_with_one_nan(self: Unconditional, batch: object) -> dict:
        terms = real(self, batch)
        if self.step == 5 and not poisoned:  # the 6th step, once
            poisoned.append(self.step)
            terms["loss"] = terms["loss"] * float("nan")
        return terms

    monkeypatch.setattr(Unconditional, "discriminator_loss", loss_with_one_nan)
    out = tmp_path / "r"
    result = session.start(make_config(
        "gan", data="ring8", steps=10, checkpoint_every=4, on_failure="rollback",
        out=str(out), **TINY), quiet=True)
    assert result.status == "complete" and result.step == 10
    log = RunDir(out).read_log()
    notes = [r for r in log if is_rollback(r)]
    assert [(n["step"], n["event"]["to_step"]) for n in notes] == [(4, 4)]
    assert [r["step"] for r in log if "d_loss" in r] == list(range(1, 11))  # replayed once
    state = load_checkpoint(out / "checkpoints" / "last.pt")
    assert [g["lr"] for opt in state["optimizers"].values() for g in opt["param_groups"]] == \
        [1e-4, 1e-4]  # 2e-4 halved
    assert all(torch.isfinite(v).all() for v in state["variant"].values()
               if v.is_floating_point())


def test_rollbacks_are_limited_then_training_stops(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r"
    args = [*GAN, "--steps", "50", "--lr-g", "1e30", "--lr-d", "1e30", "--checkpoint-every", "1",
            "--on-failure", "rollback", "--max-rollbacks", "2", "--out", str(out)]
    assert main(args) == 1
    printed = capsys.readouterr().out
    assert printed.count("rolled back to the checkpoint") == 2 and "rollbacks are spent" in printed
    assert sum(map(is_rollback, RunDir(out).read_log())) == 2
    assert Rollback(RunDir(out), 2).count == 2  # a resumed run would not start afresh
