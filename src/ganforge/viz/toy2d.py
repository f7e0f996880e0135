"""2-D toy distributions: real and generated points over the discriminator's landscape."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.patches import Circle

from ganforge.errors import GanforgeError
from ganforge.viz._common import PathLike, eval_d, new_figure, save_figure

Box = tuple[tuple[float, float], tuple[float, float]]
Lim = float | Box | None
Modes = tuple[np.ndarray, float]  # mode centres (K, 2) and their standard deviation


def _points(x: object, name: str, max_points: int) -> np.ndarray:
    """Finite rows of an (N, 2) array, deterministically subsampled to `max_points`."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise GanforgeError(f"plot_toy_2d needs {name} points shaped (N, 2), got {arr.shape}")
    arr = arr[np.isfinite(arr).all(axis=1)]
    if len(arr) > max_points:
        arr = arr[np.random.default_rng(0).choice(len(arr), max_points, replace=False)]
    return arr


def _box(real: np.ndarray, fake: np.ndarray, lim: Lim) -> Box:
    """The plotting box: ±lim, an explicit box, or both point sets' bounds plus a 10% margin."""
    if isinstance(lim, (int, float)):
        return (-float(lim), float(lim)), (-float(lim), float(lim))
    if lim is not None:
        (x0, x1), (y0, y1) = lim
        return (float(x0), float(x1)), (float(y0), float(y1))
    both = np.concatenate([real, fake]) if len(real) + len(fake) else np.zeros((1, 2))
    lo, hi = both.min(axis=0), both.max(axis=0)
    margin = np.maximum(0.1 * (hi - lo), 0.5)
    lo, hi = lo - margin, hi + margin
    return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))


def _levels(vals: np.ma.MaskedArray) -> np.ndarray:
    """Contour levels: 0..1 for probabilities, else the data range (widened if constant)."""
    if vals.count() == 0:
        return np.linspace(0.0, 1.0, 21)
    lo, hi = float(vals.min()), float(vals.max())
    if lo >= 0.0 and hi <= 1.0:
        return np.linspace(0.0, 1.0, 21)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, 21)


def draw_modes(ax: Any, modes: Modes, threshold: float = 3.0) -> None:
    """Mark each mode's centre (+) and its `threshold`-sigma circle: a sample inside a circle is
    high quality in the VEEGAN/PacGAN protocol (metrics/toy_coverage.py)."""
    centres, std = modes
    for cx, cy in np.asarray(centres, dtype=np.float64)[:, :2]:
        ax.add_patch(Circle((cx, cy), threshold * std, fill=False, color="tab:green", lw=0.8))
    ax.scatter(centres[:, 0], centres[:, 1], marker="+", s=30, c="tab:green", linewidths=0.8,
               label=f"modes ({threshold:g} sigma)")


def plot_toy_2d(
    real: np.ndarray,
    fake: np.ndarray,
    d_fn: Callable[[np.ndarray], np.ndarray] | None,
    path: PathLike,
    title: str | None = None,
    lim: Lim = None,
    grid_size: int = 100,
    max_points: int = 5000,
    modes: Modes | None = None,
) -> Path:
    """Scatter real (black) and generated (red) points over a filled contour of D(x).

    `d_fn` maps (K, 2) points to (K,) values and is evaluated on a `grid_size`² grid over the
    box; values in [0, 1] get a fixed 0..1 colour scale, anything else (critic scores) its own.
    `lim` is a half-width (square ±lim box) or ((xmin, xmax), (ymin, ymax)). `modes`: the
    mixture's centres and std, drawn as centres and 3-sigma circles (`draw_modes`).
    """
    real, fake = _points(real, "real", max_points), _points(fake, "fake", max_points)
    (x0, x1), (y0, y1) = _box(real, fake, lim)
    fig = new_figure(6.0, 5.0)
    ax = fig.add_subplot()
    if d_fn is not None:
        gx, gy = np.meshgrid(np.linspace(x0, x1, grid_size), np.linspace(y0, y1, grid_size))
        grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
        vals = np.ma.masked_invalid(eval_d(d_fn, grid).reshape(gx.shape))
        filled = ax.contourf(gx, gy, vals, levels=_levels(vals), cmap="Blues", alpha=0.85)
        fig.colorbar(filled, ax=ax, label="D(x)")
    ax.scatter(real[:, 0], real[:, 1], s=4, c="black", alpha=0.6, label="real", linewidths=0)
    ax.scatter(fake[:, 0], fake[:, 1], s=4, c="tab:red", alpha=0.6, label="generated", linewidths=0)
    if modes is not None:
        draw_modes(ax, modes)
    ax.set(xlim=(x0, x1), ylim=(y0, y1), aspect="equal", title=title or "")
    ax.legend(loc="upper right", fontsize="small", markerscale=3)
    return save_figure(fig, path)
