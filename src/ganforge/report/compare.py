"""`ganforge compare RUN1 RUN2 …`: the runs' loss curves (and, for Wasserstein critics, the W1
estimate) overlaid by step and by wall time, the options that differ and each run's latest
evaluation, as PNG, markdown and HTML."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import IO, Any

import numpy as np

from ganforge.errors import ConfigError
from ganforge.report.collect import read_evals
from ganforge.report.page import data_uri, table
from ganforge.train.checkpoint import guard_write
from ganforge.train.run import RunDir
from ganforge.viz import moving_average
from ganforge.viz._common import atomic_write, figure_to_image, new_figure

NOT_OPTIONS = ("out",)  # differs between any two runs, says nothing


@dataclass
class RunSeries:
    """One run as compared: its name, options, loss records and latest evaluation."""

    name: str
    options: dict[str, Any]
    records: list[dict[str, Any]]
    latest_eval: dict[str, float]  # metric -> headline value

    def series(self, key: str, by_time: bool) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of a logged value: x the step, or seconds since the first record."""
        times = [r["time"] for r in self.records if isinstance(r.get("time"), (int, float))]
        rows = [r for r in self.records if isinstance(r.get(key), (int, float))
                and (not by_time or isinstance(r.get("time"), (int, float)))]
        if not rows:
            return np.zeros(0), np.zeros(0)
        x = np.array([r["time"] - times[0] if by_time else r["step"] for r in rows],
                     dtype=np.float64)
        return x, np.array([r[key] for r in rows], dtype=np.float64)


def load(path: str | Path) -> RunSeries:
    """Read one run folder (one-line errors for damaged files, as everywhere)."""
    run = RunDir.open(path)
    options = run.config().to_dict()
    records = [r for r in run.read_log() if "event" not in r]
    evals = read_evals(run.root)
    latest = {}
    if evals:
        for result in evals[-1][1]["results"]:
            if isinstance(result, dict) and isinstance(result.get("value"), (int, float)):
                latest[str(result.get("metric"))] = float(result["value"])
    return RunSeries(run.root.name or str(run.root), options, records, latest)


def differing(runs: list[RunSeries]) -> list[str]:
    """The options whose values are not the same in every run."""
    keys = dict.fromkeys(k for r in runs for k in r.options)
    return [k for k in keys if k not in NOT_OPTIONS
            and len({repr(r.options.get(k)) for r in runs}) > 1]


@dataclass(frozen=True)
class Curve:
    """One row of the figure: a logged key, its sign, and which runs it means something for."""

    title: str
    key: str
    sign: float = 1.0
    loss: str | None = None  # only runs trained with this adversarial loss; None: every run

    def applies(self, run: RunSeries) -> bool:
        """Whether this run's log holds the curve (any run, or one with the curve's loss)."""
        return self.loss is None or run.options.get("loss") == self.loss


LOSS_CURVES = (Curve("d_loss", "d_loss"), Curve("g_loss", "g_loss"))
# The critic's adversarial term is E[D(G(z))] - E[D(x)] (losses/adversarial.py, Wasserstein),
# so its negative estimates W1 up to the critic's Lipschitz constant (Arjovsky et al. 2017,
# section 4): the curve that falls as the samples improve. d_loss adds WGAN-GP's penalty to it.
W_ESTIMATE = Curve("Wasserstein estimate -d_adv (Wasserstein runs)", "d_adv", -1.0,
                   "wasserstein")


def curves(runs: list[RunSeries]) -> tuple[Curve, ...]:
    """The figure's rows: D and G losses, and the W1 estimate when a run has a Wasserstein
    critic."""
    return LOSS_CURVES + ((W_ESTIMATE,) if any(W_ESTIMATE.applies(r) for r in runs) else ())


def plot(runs: list[RunSeries]) -> bytes:
    """PNG: a row per curve (D loss, G loss, W1 estimate), by step on the left and by wall time
    on the right."""
    shown = curves(runs)
    fig = new_figure(11.0, 3.4 * len(shown))
    axes = fig.subplots(len(shown), 2, squeeze=False)
    for row, curve in enumerate(shown):
        for col, by_time in enumerate((False, True)):
            ax = axes[row, col]
            for n, run in enumerate(runs):
                x, y = plotted(run, curve, by_time)
                if y.size:
                    window = max(1, y.size // 50)
                    ax.plot(x, y, color=f"C{n}", alpha=0.25, lw=0.7)
                    ax.plot(x, moving_average(y, window), color=f"C{n}", lw=1.8, label=run.name)
            ax.set_title(f"{curve.title} by {'wall time' if by_time else 'step'}")
            ax.set_xlabel("seconds since the first step" if by_time else "step")
            ax.grid(True, alpha=0.3)
            if ax.lines:
                ax.legend(fontsize="small")
            elif by_time:
                ax.text(0.5, 0.5, "no times in log.jsonl", ha="center", transform=ax.transAxes)
    buffer = io.BytesIO()
    figure_to_image(fig).save(buffer, format="PNG")
    return buffer.getvalue()


def plotted(run: RunSeries, curve: Curve, by_time: bool) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of a run's curve as drawn: empty when the curve does not apply to the run."""
    if not curve.applies(run):
        return np.zeros(0), np.zeros(0)
    x, y = run.series(curve.key, by_time)
    return x, curve.sign * y


def rows(runs: list[RunSeries]) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """The comparison table: a row per run, its differing options and latest metrics."""
    keys = differing(runs)
    metrics = list(dict.fromkeys(m for r in runs for m in r.latest_eval))
    head = ("run", "steps", *keys, *metrics)
    body = [(r.name, r.records[-1]["step"] if r.records else 0,
             *(r.options.get(k) for k in keys), *(r.latest_eval.get(m) for m in metrics))
            for r in runs]
    return head, body


def markdown(head: tuple[str, ...], body: list[tuple[Any, ...]]) -> str:
    """A markdown table."""
    def cell(v: Any) -> str:
        text = f"{v:.5g}" if isinstance(v, float) else ("" if v is None else str(v))
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(map(cell, row)) + " |" for row in body]) + "\n"


def compare(paths: list[str | Path], out: str | Path) -> list[Path]:
    """Write compare.png, compare.md and compare.html into the folder `out`."""
    if len(paths) < 2:
        raise ConfigError("compare needs at least two run folders: ganforge compare RUN1 RUN2 …")
    runs = [load(p) for p in paths]
    if len({r.name for r in runs}) < len(runs):  # same folder names: tell them by their paths
        for r, p in zip(runs, paths):
            r.name = str(p)
    png = plot(runs)
    head, body = rows(runs)
    folder = Path(out)
    md = (f"![loss curves](compare.png)\n\n{markdown(head, body)}\n"
          "Options not listed are the same in every run; metrics: each run's latest "
          "`ganforge eval` (RUN/evals/).\n")
    html = ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8><meta name=viewport "
            'content="width=device-width, initial-scale=1"><title>ganforge compare</title>'
            "<style>body{font:15px system-ui,sans-serif;max-width:1100px;margin:auto;padding:8px}"
            "img{max-width:100%}.scroll{overflow-x:auto}td,th{border:1px solid #ccc;padding:2px"
            " 6px}table{border-collapse:collapse}</style></head><body><h1>"
            f"{escape(', '.join(r.name for r in runs))}</h1><img alt='loss curves' "
            f"src='{data_uri(png)}'>{table(body, head)}<p>Options not listed are the same in "
            "every run; metrics: each run's latest evaluation.</p></body></html>\n")
    written = []
    for name, data in (("compare.png", png), ("compare.md", md.encode()),
                       ("compare.html", html.encode())):
        with guard_write(folder / name):
            written.append(atomic_write(folder / name, _writer(data)))
    return written


def _writer(data: bytes) -> Callable[[IO[bytes]], None]:
    def put(fh: IO[bytes]) -> None:
        fh.write(data)

    return put
