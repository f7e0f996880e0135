"""The failure monitor in real training: each failure provoked on purpose, and a healthy run."""

from __future__ import annotations

import json
from pathlib import Path

import torch

import ganforge
from ganforge.api import make_config
from ganforge.train import session
from ganforge.train.checkpoint import load_checkpoint

QUIET = {"hidden": 16, "latent_dim": 8, "batch_size": 64, "log_every": 10_000,
         "sample_every": 100_000, "checkpoint_every": 10_000}


def _events(run_dir: Path) -> list[dict]:
    lines = (run_dir / "log.jsonl").read_text().splitlines()
    return [json.loads(x)["event"] for x in lines if '"event"' in x]


def test_discriminator_winning_is_detected(tmp_path: Path) -> None:
    # G can hardly move (lr 1e-9) while D learns fast: D loss -> 0, D(real) -> 1, G loss grows.
    cfg = make_config("gan", data="ring8", steps=900, lr_g=1e-9, lr_d=1e-2, monitor_every=0,
                      out=str(tmp_path / "r"), **QUIET)
    result = session.start(cfg, quiet=True)
    kinds = [e.kind for e in result.events]
    assert "d_wins" in kinds and result.status == "complete"
    event = next(e for e in result.events if e.kind == "d_wins")
    assert any("WGAN-GP" in a for a in event.advice)
    assert any(e["kind"] == "d_wins" for e in _events(tmp_path / "r"))  # recorded in the run log


def test_on_failure_stop_stops_and_keeps_a_checkpoint(tmp_path: Path) -> None:
    cfg = make_config("gan", data="ring8", steps=900, lr_g=1e-9, lr_d=1e-2, monitor_every=0,
                      on_failure="stop", out=str(tmp_path / "r"), **QUIET)
    result = session.start(cfg, quiet=True)
    assert result.status == "failed" and result.step < 900
    saved = load_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")
    assert saved["counters"]["step"] == result.step


def test_mode_collapse_is_detected(tmp_path: Path) -> None:
    # A generator that cannot learn stays at its initial, nearly constant output.
    cfg = make_config("gan", data="grid25", steps=700, lr_g=1e-9, monitor_every=100,
                      out=str(tmp_path / "r"), **QUIET)
    result = session.start(cfg, quiet=True)
    assert "mode_collapse" in [e.kind for e in result.events]


def test_nan_stops_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    cfg = make_config("gan", data="ring8", steps=50, lr_g=1e30, lr_d=1e30, checkpoint_every=1,
                      out=str(tmp_path / "r"), **{k: v for k, v in QUIET.items()
                                                  if k != "checkpoint_every"})
    result = session.start(cfg, quiet=True)
    assert result.status == "failed" and result.events[-1].kind == "nan"
    state = load_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")
    assert state["counters"]["step"] < result.step
    assert all(torch.isfinite(v).all() for v in state["variant"].values() if v.is_floating_point())
    assert not (tmp_path / "r" / "generator.safetensors").exists()


def test_healthy_run_reports_nothing(tmp_path: Path) -> None:
    opts = {**QUIET, "hidden": 64}
    run = ganforge.train("gan", data="ring8", steps=1200, monitor_every=200,
                         out=tmp_path / "r", quiet=True, **opts)
    assert _events(run.dir.root) == []
