"""Kill harness: a training process SIGKILLed at seeded random points (inside a step, while a
checkpoint is written, before it is renamed, while the log is written, while the final weights are
written, and once from outside while it pauses mid-write), resumed each time, ends with bitwise
the same checkpoint and weights as an uninterrupted run; after every kill the checkpoint on disk
is a good one, bitwise the uninterrupted run's at that step."""

from __future__ import annotations

import copy
import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from conftest import flat_state, same_leaf
from ganforge.api import make_config
from ganforge.train import session
from ganforge.train import trainer as trainer_module
from ganforge.train.checkpoint import load_checkpoint
from ganforge.train.lock import LOCK_NAME
from ganforge.train.run import LogFile, RunDir
from ganforge.variants.base import SingleCriticVariant

STEPS, EVERY, SEED = 27, 3, 20250
OPTS = {"width": 8, "hidden": 16, "latent_dim": 8, "batch_size": 16, "grid_size": 16,
        "log_every": 1000, "monitor_every": 0, "sample_every": 1000, "checkpoint_every": EVERY}
KINDS = ("step", "write", "replace", "log")


def kill_points(seed: int = SEED) -> list[tuple[str, int]]:
    """Five seeded random points, one per window of 4 steps, then a kill from outside while a
    checkpoint is half written, then one while the final weights are written."""
    rng = random.Random(seed)
    points = []
    for lo in range(1, 21, 4):
        kind = rng.choice(KINDS)
        steps = range(lo, lo + 4)
        if kind in ("write", "replace"):  # these happen at checkpoints only
            steps = range(lo + (-lo) % EVERY, lo + 4, EVERY)
        points.append((kind, rng.choice(list(steps))))
    return [*points, ("external", 24), ("finish", STEPS)]


def _last_good(kind: str, step: int) -> int:
    """The checkpoint a kill at this point leaves: the one before a checkpoint cut short, the
    last one before a step or log line cut short, the final one when only the weights were."""
    if kind in ("write", "replace", "external"):
        return step - EVERY
    return step if kind == "finish" else (step - 1) // EVERY * EVERY


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _arm(kind: str, step: int, marker: Path) -> None:
    """In the child: make it die (or pause, for "external") at the kill point."""
    saving = {"step": -1}
    real_save, real_fsync = trainer_module.Trainer.save, os.fsync
    real_torch_save = torch.save

    def save(self: trainer_module.Trainer) -> None:
        saving["step"] = self.step
        real_save(self)

    def half_written(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
        real_torch_save(obj, f, *args, **kwargs)
        if saving["step"] == step:
            os.truncate(f, os.path.getsize(f) // 2)
            if kind == "external":
                marker.touch()
                time.sleep(60)  # the test kills us here
            _die()

    def fsync(fd: int) -> None:
        if saving["step"] == step:
            _die()  # written in full, not yet renamed over last.pt
        real_fsync(fd)

    def mid_step(self: SingleCriticVariant) -> None:
        if self.step + 1 == step:  # D has stepped, G has not
            _die()

    def torn_line(self: LogFile, text: str) -> None:
        if f'"step": {step}, ' in text:
            self._f.write(text[: len(text) // 2])
            self._f.flush()
            _die()
        real_write(self, text)

    def half_weights(tensors: Any, filename: str, *args: Any, **kwargs: Any) -> None:
        Path(filename).write_bytes(b"\0" * 100)
        _die()

    real_write = LogFile.write
    trainer_module.Trainer.save = save  # type: ignore[method-assign]
    if kind in ("write", "external"):
        torch.save = half_written
    elif kind == "replace":
        os.fsync = fsync
    elif kind == "step":
        SingleCriticVariant.after_discriminator_step = mid_step  # type: ignore[method-assign]
    elif kind == "log":
        LogFile.write = torn_line  # type: ignore[method-assign]
    elif kind == "finish":
        import safetensors.torch

        safetensors.torch.save_file = half_weights


def _child(run: str, first: bool, kind: str, step: int, marker: str) -> None:
    _arm(kind, step, Path(marker))
    if first:
        session.start(make_config("gan", data="ring8", steps=STEPS, out=run, **OPTS), quiet=True)
    else:
        session.resume(run, {"steps": STEPS}, quiet=True)


def _bitwise(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Same state, tensors bit for bit (the config, which names the folder, aside)."""
    fa, fb = flat_state({**a, "config": None}), flat_state({**b, "config": None})
    return fa.keys() == fb.keys() and all(same_leaf(x, fb[k]) for k, x in fa.items())


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, dict]]:
    """An uninterrupted run, and a copy of every checkpoint it wrote, by step."""
    out = tmp_path_factory.mktemp("kill") / "full"
    states: dict[int, dict] = {}
    real = trainer_module.save_checkpoint

    def keep(path: Path, state: dict) -> None:
        states[state["counters"]["step"]] = copy.deepcopy({"format": 2, **state})
        real(path, state)

    mp = pytest.MonkeyPatch()
    mp.setattr(trainer_module, "save_checkpoint", keep)
    try:
        session.start(make_config("gan", data="ring8", steps=STEPS, out=str(out), **OPTS),
                      quiet=True)
    finally:
        mp.undo()
    return out, states


def _run_until_killed(target: Callable[..., None], args: tuple, marker: Path) -> int:
    """Run `target` in a forked process; kill it from outside once `marker` appears."""
    proc = multiprocessing.get_context("fork").Process(target=target, args=args, daemon=True)
    proc.start()
    deadline = time.monotonic() + 120
    while proc.is_alive() and time.monotonic() < deadline:
        if marker.exists():
            os.kill(proc.pid, signal.SIGKILL)  # type: ignore[arg-type]
            break
        time.sleep(0.01)
    proc.join(120)
    return proc.exitcode if proc.exitcode is not None else 0


def test_kill_anywhere_then_resume_is_bitwise(reference: tuple[Path, dict[int, dict]],
                                              tmp_path: Path) -> None:
    full, states = reference
    run, ckpt = tmp_path / "run", tmp_path / "run" / "checkpoints" / "last.pt"
    points, good = kill_points(), 0
    for i, (kind, step) in enumerate(points):
        marker = tmp_path / f"paused-{i}"
        code = _run_until_killed(_child, (str(run), i == 0, kind, step, str(marker)), marker)
        assert code == -signal.SIGKILL, f"kill point {kind}@{step} was not reached"
        saved = load_checkpoint(ckpt)  # a write cut short never replaced the last good one
        at = saved["counters"]["step"]
        assert at == _last_good(kind, step) and _bitwise(saved, states[at]), f"{kind}@{step}"
        good += 1
    assert (run / LOCK_NAME).exists()  # left by the last killed process
    session.resume(run, {"steps": STEPS}, quiet=True)
    assert _bitwise(load_checkpoint(ckpt), load_checkpoint(full / "checkpoints" / "last.pt"))
    weights = (full / "generator.safetensors").read_bytes()
    assert (run / "generator.safetensors").read_bytes() == weights
    records = [r["step"] for r in RunDir(run).read_log() if "d_loss" in r]
    assert records == list(range(1, STEPS + 1))  # none lost, none twice
    assert not list(run.rglob("*.tmp")) and not (run / LOCK_NAME).exists()
    print(f"kill harness: {len(points)} kill points ({', '.join(f'{k}@{s}' for k, s in points)}),"
          f" {good} left a good checkpoint, and the resumed run is bitwise the uninterrupted one")
