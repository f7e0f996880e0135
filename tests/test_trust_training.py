"""Training that survives faults: one writer per run folder, and a full disk stops training with
the last good checkpoint intact and one line naming the file."""

from __future__ import annotations

import errno
import multiprocessing
import os
import signal
from pathlib import Path

import pytest
import torch

import ganforge
from ganforge.cli.main import main
from ganforge.train import pictures
from ganforge.train.checkpoint import load_checkpoint
from ganforge.train.lock import LOCK_NAME, RunLock
from ganforge.train.run import RunDir

TINY = {"width": 8, "hidden": 16, "latent_dim": 8, "batch_size": 16, "grid_size": 16,
        "log_every": 1000, "monitor_every": 0, "sample_every": 1000}
GAN = ["train", "gan", "--data", "ring8", "--width", "8", "--hidden", "16", "--latent-dim", "8",
       "--batch-size", "16", "--monitor-every", "0", "--sample-every", "1000"]


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


@pytest.fixture
def run(tmp_path: Path) -> Path:
    ganforge.train("gan", data="ring8", steps=2, out=tmp_path / "r", quiet=True, **TINY)
    return tmp_path / "r"


# ----- one writer per run folder -----------------------------------------------------------------
def test_a_second_writer_is_refused(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert not (run / LOCK_NAME).exists()  # a finished run leaves no lock behind
    before = (run / "checkpoints" / "last.pt").read_bytes()
    with RunLock(run):
        assert main(["train", "--resume", str(run), "--steps", "4"]) == 2
        err = _one_line(capsys)
        assert f"is in use by process {os.getpid()}" in err and LOCK_NAME in err
        assert main([*GAN, "--steps", "2", "--out", str(run)]) == 2
        assert "is in use" in _one_line(capsys)
    assert (run / "checkpoints" / "last.pt").read_bytes() == before


def _hold_lock_then_sleep(root: str, ready: multiprocessing.synchronize.Event) -> None:
    lock = RunLock(Path(root)).acquire()
    ready.set()
    signal.pause()
    lock.release()  # never reached: the test kills this process


def test_a_lock_left_by_a_killed_process_is_taken_over(run: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_lock_then_sleep, args=(str(run), ready), daemon=True)
    holder.start()
    try:
        assert ready.wait(30)
        assert main(["train", "--resume", str(run), "--steps", "4"]) == 2  # alive: refused
        assert f"in use by process {holder.pid}" in _one_line(capsys)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.join()
    assert (run / LOCK_NAME).exists()  # left behind by the killed process
    assert main(["train", "--resume", str(run), "--steps", "4"]) == 0
    assert f"took over the lock of process {holder.pid}" in capsys.readouterr().out
    assert load_checkpoint(run / "checkpoints" / "last.pt")["counters"]["step"] == 4
    assert not (run / LOCK_NAME).exists()


# ----- disk full ---------------------------------------------------------------------------------
def _enospc(path: object = None) -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), None if path is None else str(path))


def test_disk_full_while_checkpointing_stops_with_the_last_good_checkpoint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_save = torch.save

    def save(obj: dict, f: object, *args: object, **kwargs: object) -> None:
        if obj["counters"]["step"] == 4:
            with open(f, "wb") as out:  # type: ignore[call-overload]
                out.write(b"PK\x03\x04 half a checkpoint")  # the disk fills up mid-write
            raise _enospc()
        real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save)
    out = tmp_path / "r"
    assert main([*GAN, "--steps", "8", "--checkpoint-every", "2", "--out", str(out)]) == 2
    err = _one_line(capsys)
    assert err.endswith(f"cannot write '{out / 'checkpoints' / 'last.pt'}': No space left on "
                        "device (ENOSPC)")
    monkeypatch.undo()
    assert load_checkpoint(out / "checkpoints" / "last.pt")["counters"]["step"] == 2
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["last.pt"]
    assert max(r["step"] for r in RunDir(out).read_log()) < 8  # it did not carry on


def test_disk_full_while_drawing_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise _enospc(args[3])

    monkeypatch.setattr(pictures, "plot_toy_2d", full)
    out = tmp_path / "r"
    assert main([*GAN, "--steps", "8", "--sample-every", "3", "--out", str(out)]) == 2
    assert f"cannot write '{out / 'samples' / 'step_0000003.png'}'" in _one_line(capsys)
    assert load_checkpoint(out / "checkpoints" / "last.pt")["counters"]["step"] == 0


def test_disk_full_while_logging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    monkeypatch.setattr(RunDir, "log_path", property(lambda self: Path("/dev/full")))
    out = tmp_path / "r"
    assert main([*GAN, "--steps", "8", "--checkpoint-every", "4", "--out", str(out)]) == 2
    assert "cannot write '/dev/full': No space left on device (ENOSPC)" in _one_line(capsys)
    assert load_checkpoint(out / "checkpoints" / "last.pt")["counters"]["step"] == 0
