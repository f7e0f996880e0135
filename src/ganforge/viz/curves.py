"""Loss curves from training log records."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypeGuard

import numpy as np
from matplotlib.axes import Axes

from ganforge.errors import GanforgeError
from ganforge.viz._common import PathLike, new_figure, save_figure

# Discriminator outputs on real / fake batches: drawn in their own panel, not with the losses.
D_OUTPUT_KEYS = ("d_real", "d_fake")
# Numeric log fields that are bookkeeping or metrics, never loss terms.
NOT_LOSS_KEYS = frozenset(
    {"step", "epoch", "iter", "time", "elapsed", "wall_s", "seconds", "fid", "kid", "is", "lr"}
)
_COLOURS = {
    "d_loss": "tab:blue",
    "g_loss": "tab:orange",
    "d_real": "tab:green",
    "d_fake": "tab:red",
}


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over `window` points, same length as `values` (shorter at the start)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0 or window <= 1:
        return v.copy()
    c = np.concatenate([[0.0], np.cumsum(v)])
    idx = np.arange(1, v.size + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def _is_number(v: object) -> TypeGuard[int | float | np.number]:
    """True for a finite real number (bools excluded)."""
    return isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and math.isfinite(v)


def _series(records: Sequence[Mapping[str, object]], key: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) for `key` over the records that carry a finite number for it."""
    steps, vals = [], []
    for i, rec in enumerate(records):
        v = rec.get(key)
        if _is_number(v):
            s = rec.get("step", i)
            steps.append(float(s) if _is_number(s) else float(i))
            vals.append(float(v))
    return np.asarray(steps), np.asarray(vals)


def _loss_keys(records: Sequence[Mapping[str, object]]) -> list[str]:
    """Numeric keys that look like loss terms, d_loss and g_loss first, others in seen order."""
    seen: dict[str, None] = {}
    for rec in records:
        for k, v in rec.items():
            if _is_number(v) and k not in NOT_LOSS_KEYS and not k.startswith("lr"):
                if not k.startswith(D_OUTPUT_KEYS):
                    seen.setdefault(k)
    head = [k for k in ("d_loss", "g_loss") if k in seen]
    return head + [k for k in seen if k not in head]


def _draw(ax: Axes, records: Sequence[Mapping[str, object]], keys: list[str], window: int) -> None:
    """Draw each key raw (thin, light) with its moving average (bold) in the same colour."""
    for n, key in enumerate(keys):
        steps, vals = _series(records, key)
        if vals.size == 0:
            continue
        colour = _COLOURS.get(key, f"C{(n + 2) % 10}")
        marker = "o" if vals.size == 1 else None
        ax.plot(steps, vals, color=colour, alpha=0.3, lw=0.8, marker=marker)
        ax.plot(steps, moving_average(vals, window), color=colour, lw=2.0, label=key)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")


def plot_losses(
    records: Sequence[Mapping[str, object]],
    path: PathLike,
    window: int | None = None,
    loss_keys: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """Write a loss-curve PNG: losses raw and smoothed; a D(real)/D(fake) panel when logged.

    Loss terms default to every numeric key except step/epoch/time/lr/metrics and d_real/d_fake.
    `window` (moving-average length) defaults to about 1/50 of the records.
    """
    if not records:
        raise GanforgeError("plot_losses needs at least one log record")
    keys = list(loss_keys) if loss_keys is not None else _loss_keys(records)
    if not keys:
        raise GanforgeError("no numeric loss terms in the log records to plot")
    window = window or max(1, len(records) // 50)
    d_keys = [k for k in D_OUTPUT_KEYS if _series(records, k)[1].size]
    fig = new_figure(8.0, 6.5 if d_keys else 4.5)
    axes = fig.subplots(2 if d_keys else 1, 1, sharex=True, squeeze=False)[:, 0]
    _draw(axes[0], records, keys, window)
    axes[0].set_ylabel("loss")
    axes[0].set_title(title or f"losses (bold: moving average over {window})")
    if d_keys:
        _draw(axes[1], records, d_keys, window)
        axes[1].set_ylabel("D output")
    axes[-1].set_xlabel("step")
    return save_figure(fig, path)
