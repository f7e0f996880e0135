"""`--tensorboard`: event files in RUN/tensorboard/ read back with TensorBoard's own reader."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import ganforge
from conftest import TINY
from ganforge.cli.main import main
from ganforge.monitor.events import d_wins_event
from ganforge.train.tensorboard import TensorBoardHook

pytest.importorskip("tensorboard", reason="pip install 'ganforge[tensorboard]'")
from tensorboard.backend.event_processing.event_accumulator import (  # noqa: E402
    EventAccumulator,
)


def read_events(folder: Path) -> EventAccumulator:
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0,
                                                          "tensors": 0})
    events.Reload()
    return events


def test_training_logs_every_term_rate_and_picture(tmp_path: Path) -> None:
    out = tmp_path / "run"
    ganforge.train("gan", data="ring8", steps=6, sample_every=3, tensorboard=True, out=out,
                   quiet=True, **TINY)
    events = read_events(out / "tensorboard")
    scalars = set(events.Tags()["scalars"])
    assert {"loss/d_loss", "loss/g_loss", "loss/d_adv", "D_output/d_real", "D_output/d_fake",
            "lr/D", "lr/G", "speed/images_per_s"} <= scalars, scalars
    assert [e.step for e in events.Scalars("loss/d_loss")] == [1, 2, 3, 4, 5, 6]
    assert [e.step for e in events.Scalars("speed/images_per_s")] == [2, 3, 4, 5, 6]
    assert all(e.value == pytest.approx(2e-4) for e in events.Scalars("lr/G"))
    assert [e.step for e in events.Images("samples")] == [3, 6]
    assert all(e.width > 0 and e.height > 0 for e in events.Images("samples"))


def test_monitor_events_are_text(tmp_path: Path) -> None:
    hook = TensorBoardHook(tmp_path, batch_size=16)
    hook.event(d_wins_event(40, "the discriminator is winning"))
    hook.close()
    (text,) = read_events(tmp_path).Tensors("monitor/d_wins/text_summary")
    body = text.tensor_proto.string_val[0].decode()
    assert text.step == 40 and "the discriminator is winning" in body
    assert "try: one-sided label smoothing" in body


def test_missing_package_is_one_line_before_any_folder(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tensorboard" else real(name, *a))
    code = main(["train", "gan", "--data", "ring8", "--steps", "2", "--tensorboard",
                 "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "pip install 'ganforge[tensorboard]'" in err
    assert not (tmp_path / "run").exists()


def test_a_resumed_run_continues_the_curves_without_repeats(tmp_path: Path) -> None:
    from ganforge.train import session

    out = tmp_path / "run"
    ganforge.train("gan", data="ring8", steps=4, checkpoint_every=2, tensorboard=True, out=out,
                   quiet=True, **TINY)
    stale = TensorBoardHook(out / "tensorboard", batch_size=16)  # as if killed after step 6
    for step in (5, 6):
        stale.step(step, {"g_loss": 999.0}, {})
    stale.close()
    session.resume(out, {"steps": 7}, quiet=True)
    curve = read_events(out / "tensorboard").Scalars("loss/g_loss")
    assert [e.step for e in curve] == [1, 2, 3, 4, 5, 6, 7]
    assert 999.0 not in [e.value for e in curve]  # steps 5-6 trained again replace the stale


def test_eval_of_a_tensorboard_run_adds_its_metrics(tmp_path: Path) -> None:
    out = tmp_path / "run"
    ganforge.train("gan", data="ring8", steps=4, tensorboard=True, out=out, quiet=True, **TINY)
    assert main(["eval", str(out), "--metrics", "w1,modes", "--n", "200"]) == 0
    events = read_events(out / "tensorboard")
    (w1,) = events.Scalars("eval/w1")
    assert w1.step == 4 and w1.value > 0
    (prov,) = events.Tensors("eval/provenance/text_summary")
    assert "features: raw" in prov.tensor_proto.string_val[0].decode()
