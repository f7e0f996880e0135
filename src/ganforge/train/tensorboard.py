"""TensorBoard event files in RUN/tensorboard/ (`--tensorboard`): every logged loss term,
D(real)/D(fake), learning rates, images/s, the sample pictures and the monitor's events."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ganforge.errors import ConfigError
from ganforge.monitor import FailureEvent
from ganforge.train.checkpoint import guard_write
from ganforge.train.hooks import TrainHook

INSTALL = "pip install 'ganforge[tensorboard]' (or pip install tensorboard)"
D_OUTPUTS = ("d_real", "d_fake")


def summary_writer(folder: Path, purge_step: int | None = None) -> Any:
    """torch's SummaryWriter on `folder`; a missing tensorboard package is a one-line error."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError(f"--tensorboard needs the tensorboard package: {INSTALL}") from None
    with guard_write(folder):
        return SummaryWriter(str(folder), purge_step=purge_step)


def scalar_tag(key: str) -> str:
    """The TensorBoard tag of a logged value: D's outputs, learning rates and losses apart."""
    if key.startswith(D_OUTPUTS):
        return f"D_output/{key}"
    if key.startswith("lr"):
        return f"lr/{key}"
    return f"loss/{key}"


class TensorBoardHook(TrainHook):
    """Writes what the trainer reports; the writer opens at the first step it hears about, so
    a resumed run purges the events after its checkpoint (they are trained again)."""

    def __init__(self, folder: Path, batch_size: int) -> None:
        self.folder, self.batch_size = folder, batch_size
        self.writer: Any = None
        self.last: tuple[int, float] | None = None  # (step, time) of the previous report

    def _writer(self, step: int) -> Any:
        if self.writer is None:
            self.writer = summary_writer(self.folder, purge_step=step)
        return self.writer

    def step(self, step: int, stats: dict[str, float], lrs: dict[str, float],
             clock: float | None = None) -> None:
        writer, now = self._writer(step), time.perf_counter() if clock is None else clock
        for key, value in stats.items():
            writer.add_scalar(scalar_tag(key), value, step)
        for group, lr in lrs.items():
            writer.add_scalar(f"lr/{group}", lr, step)
        if self.last is not None and now > self.last[1]:
            rate = self.batch_size * (step - self.last[0]) / (now - self.last[1])
            writer.add_scalar("speed/images_per_s", rate, step)
        self.last = (step, now)

    def picture(self, step: int, tag: str, path: Path) -> None:
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"))
        self._writer(step).add_image("samples", pixels, step, dataformats="HWC")

    def event(self, event: FailureEvent) -> None:
        advice = "\n" + "".join(f"\n- try: {a}" for a in event.advice)
        self._writer(event.step).add_text(f"monitor/{event.kind}", event.message + advice,
                                          event.step)

    def close(self) -> None:
        if self.writer is not None:
            with guard_write(self.folder):
                self.writer.close()
            self.writer = None


def log_evaluation(folder: Path, record: dict[str, Any], step: int) -> None:
    """Add an evaluation's headline values (`ganforge eval RUN --json` record) as eval/<metric>
    scalars at the run's last step, with its provenance as text."""
    writer = summary_writer(folder)
    try:
        for result in record.get("results", []):
            if isinstance(result.get("value"), (int, float)):
                writer.add_scalar(f"eval/{result['metric']}", float(result["value"]), step)
        facts = ", ".join(f"{k}: {v}" for k, v in record.get("provenance", {}).items())
        writer.add_text("eval/provenance", facts, step)
    finally:
        with guard_write(folder):
            writer.close()
