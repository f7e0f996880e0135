"""No host synchronisation in the training step: the step keeps its values as 0-dim tensors
and the trainer reads them in one go at the log interval, with the same records, console lines
and monitor values as reading them every step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

import ganforge
from ganforge.api import make_config
from ganforge.monitor import FailureMonitor
from ganforge.train import session
from ganforge.train.pending import materialise
from ganforge.train.precision import Precision
from ganforge.train.run import RunDir
from ganforge.train.trainer import Trainer


def _records(run: Path) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "time"} for r in RunDir(run).read_log()]


def test_materialise_reads_the_same_floats_as_float() -> None:
    a, b = torch.tensor(0.1), torch.tensor(1 / 3, dtype=torch.float64)
    c = torch.tensor(2.5, dtype=torch.bfloat16)
    rows = [{"x": a, "y": 2, "z": c}, {"x": b, "w": a}]
    assert materialise(rows) == [{"x": float(a), "y": 2.0, "z": 2.5},
                                 {"x": float(b), "w": float(a)}]
    assert materialise([]) == [] and materialise([{"lr": 0.5}]) == [{"lr": 0.5}]


def _refused_while(armed: list[bool], real: Any) -> Any:
    """`real` (a Tensor method that reads values on the host), failing while armed[0]."""
    def check(t: torch.Tensor, *args: object) -> object:
        if armed[0]:
            raise AssertionError(f"{real.__name__} read a tensor on the host in the step")
        return real(t, *args)
    return check


def test_the_step_reads_nothing_back(tmp_path: Path, tiny: dict,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Forward passes, losses and logged terms read nothing on the host; the optimiser's step
    # (its step counter lives on the CPU by design) is left out of the check.
    original, step_opt = Trainer.train_step, Precision.backward_step
    armed = [False]

    def guarded(self: Trainer, batch):  # noqa: ANN001, ANN202
        armed[0] = True
        try:
            stats = original(self, batch)
        finally:
            armed[0] = False
        assert all(isinstance(v, torch.Tensor) for v in stats.values()), stats
        return stats

    def unguarded(self: Precision, *args: object) -> None:
        armed[0] = False
        step_opt(self, *args)
        armed[0] = True

    for name in ("__float__", "item", "__bool__", "tolist"):
        monkeypatch.setattr(torch.Tensor, name, _refused_while(armed, getattr(torch.Tensor, name)))
    monkeypatch.setattr(Trainer, "train_step", guarded)
    monkeypatch.setattr(Precision, "backward_step", unguarded)
    for model in ("dcgan", "wgan-gp", "wgan"):
        result = ganforge.train(model, steps=3, out=tmp_path / model, quiet=True, **tiny)
        assert result.dir.read_log()[-1]["step"] == 3


def test_batched_reads_log_show_and_monitor_the_same_values(
        tmp_path: Path, tiny: dict, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    seen: dict[str, list[tuple[int, dict]]] = {}
    real = FailureMonitor.update

    def spy(self: FailureMonitor, step: int, stats: dict) -> list:
        seen.setdefault(current, []).append((step, dict(stats)))
        return real(self, step, stats)

    monkeypatch.setattr(FailureMonitor, "update", spy)
    printed = {}
    for every in (1, 4):
        current = f"every{every}"
        ganforge.train("dcgan", steps=9, out=tmp_path / current, quiet=False,
                       **{**tiny, "log_every": every, "checkpoint_every": 1000})
        printed[every] = [x for x in capsys.readouterr().out.splitlines() if "[Batch " in x]
    assert _records(tmp_path / "every1") == _records(tmp_path / "every4")
    assert seen["every1"] == seen["every4"] and [s for s, _ in seen["every4"]] == list(range(1, 10))
    assert printed[4] == printed[1][::4] and len(printed[4]) == 3  # batches 0, 4, 8


def test_a_nan_found_at_the_flush_stops_at_its_own_step(tmp_path: Path, tiny: dict,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from ganforge.variants.unconditional import Unconditional

    real = Unconditional.discriminator_loss

    def nan_at_step_2(self: Unconditional, batch: object) -> dict:
        terms = real(self, batch)
        if self.step == 1:
            terms["loss"] = terms["loss"] * float("nan")
        return terms

    monkeypatch.setattr(Unconditional, "discriminator_loss", nan_at_step_2)
    opts = {**tiny, "checkpoint_every": 1000, "sample_every": 1000}
    cfg = make_config("gan", data="ring8", steps=8, out=str(tmp_path / "r"), **opts)
    result = session.start(cfg, quiet=True)
    assert result.status == "failed" and result.step == 8  # found at the flush after step 8
    assert [e.kind for e in result.events] == ["nan"]
    log = RunDir(tmp_path / "r").read_log()
    assert [r["step"] for r in log] == [1, 2, 2] and log[-1]["event"]["kind"] == "nan"
    saved = torch.load(tmp_path / "r" / "checkpoints" / "last.pt", weights_only=True)
    assert saved["counters"]["step"] == 0  # the unsound state after step 2 was not kept
