"""`ganforge report RUN`: one self-contained HTML page of a run (see `write_report`)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import IO, Any

from ganforge.report.collect import RunContents, collect, read_png
from ganforge.report.page import render
from ganforge.train.checkpoint import guard_write
from ganforge.viz._common import atomic_write

REPORT_NAME = "report.html"

__all__ = ["REPORT_NAME", "RunContents", "collect", "render", "write_report"]


def loss_curve_png(c: RunContents) -> bytes | None:
    """The run's loss curve: loss_curve.png when it is newer than the log, else drawn now."""
    if not c.records:
        return None
    saved, log = c.root / "loss_curve.png", c.root / "log.jsonl"
    if saved.is_file() and log.is_file() and saved.stat().st_mtime >= log.stat().st_mtime:
        return read_png(saved)
    from ganforge.viz import plot_losses

    with tempfile.TemporaryDirectory() as tmp:
        return plot_losses(c.records, Path(tmp) / "curve.png").read_bytes()


def write_report(run: str | Path, out: str | Path | None = None,
                 config: dict[str, Any] | None = None) -> Path:
    """Write the report of the run folder `run` to `out` (default: RUN/report.html); `config`:
    the run's resolved options when the caller holds them (else read from config.yaml)."""
    contents = collect(run, config)
    html = render(contents, loss_curve_png(contents))
    path = Path(out) if out is not None else contents.root / REPORT_NAME
    with guard_write(path):  # a full disk or read-only folder is one line naming the file
        return atomic_write(path, lambda fh: _write(fh, html))


def _write(fh: IO[bytes], text: str) -> None:
    fh.write(text.encode("utf-8"))
