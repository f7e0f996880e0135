"""The 1-D Gaussian GAN figure (Goodfellow et al. 2014, Fig. 1), filmstrips and GIFs of it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.stats import gaussian_kde

from ganforge.errors import GanforgeError
from ganforge.viz._common import PathLike, eval_d, new_figure, save_figure, save_pil

DFn = Callable[[np.ndarray], np.ndarray]
DCurve = DFn | tuple[np.ndarray, np.ndarray] | None

_MAX_KDE_POINTS = 5000


def _samples(x: object, name: str) -> np.ndarray:
    """Flatten `x` to a 1-D float array of its finite values; it must not be empty."""
    arr = np.asarray(x, dtype=np.float64).reshape(-1)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        raise GanforgeError(f"plot_density_1d got no finite {name} samples")
    return arr


def _x_range(real: np.ndarray, fake: np.ndarray) -> tuple[float, float]:
    """An x-range covering both sample sets with a 10% margin (at least 0.5 either side)."""
    lo = float(min(real.min(), fake.min()))
    hi = float(max(real.max(), fake.max()))
    margin = max(0.1 * (hi - lo), 0.5)
    return lo - margin, hi + margin


def density(samples: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Gaussian-KDE density of `samples` on `xs`; a smoothed histogram when the KDE is singular."""
    if samples.size > _MAX_KDE_POINTS:
        rng = np.random.default_rng(0)
        samples = rng.choice(samples, _MAX_KDE_POINTS, replace=False)
    if samples.size >= 2 and np.ptp(samples) > 0:
        try:
            return gaussian_kde(samples)(xs)
        except (np.linalg.LinAlgError, ValueError):
            pass
    # Collapsed or tiny sample: histogram on the plotting grid, lightly smoothed.
    edges = np.concatenate([xs[:1], (xs[1:] + xs[:-1]) / 2, xs[-1:]])
    hist, _ = np.histogram(np.clip(samples, xs[0], xs[-1]), bins=edges, density=True)
    kernel = np.exp(-0.5 * (np.arange(-6, 7) / 2.0) ** 2)
    return np.convolve(hist, kernel / kernel.sum(), mode="same")


def _d_curve(d_fn: DCurve, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Evaluate `d_fn` on `xs`, or unpack a precomputed (xs, D(xs)) pair."""
    if d_fn is None:
        return None
    if callable(d_fn):
        return xs, eval_d(d_fn, xs)
    dx, dv = (np.asarray(a, dtype=np.float64).reshape(-1) for a in d_fn)
    if dx.shape != dv.shape:
        raise GanforgeError(f"D curve xs and values differ in length: {dx.size} vs {dv.size}")
    return dx, dv


def plot_density_1d(
    real: np.ndarray,
    fake: np.ndarray,
    d_fn: DCurve,
    path: PathLike,
    title: str | None = None,
    xlim: tuple[float, float] | None = None,
    n_points: int = 400,
) -> Path:
    """Draw p_data (black dotted), p_g (green solid) and D(x) (blue dashed) on one axis.

    Both densities are divided by one common factor so the larger peaks at 1, which keeps their
    relative heights and lets D(x), a probability in [0, 1], share the axis. `d_fn` is a callable
    (xs of shape (K,) -> D(xs) of shape (K,)), a precomputed (xs, D(xs)) pair, or None.
    """
    real, fake = _samples(real, "real"), _samples(fake, "fake")
    lo, hi = xlim if xlim is not None else _x_range(real, fake)
    xs = np.linspace(lo, hi, n_points)
    p_data, p_g = density(real, xs), density(fake, xs)
    scale = max(float(p_data.max()), float(p_g.max()), 1e-12)
    fig = new_figure(7.0, 4.0)
    ax = fig.add_subplot()
    ax.plot(xs, p_data / scale, "k:", lw=2.0, label="data density $p_{data}$ (scaled)")
    ax.plot(
        xs, p_g / scale, "-", color="tab:green", lw=2.0, label="generator density $p_g$ (scaled)"
    )
    curve = _d_curve(d_fn, xs)
    if curve is not None:
        ax.plot(*curve, "--", color="tab:blue", lw=2.0, label="discriminator $D(x)$")
    ax.axhline(0.5, color="0.6", lw=0.8, zorder=0)
    top = max(1.05, float(np.nanmax(curve[1])) * 1.05) if curve is not None else 1.05
    ax.set(xlim=(lo, hi), ylim=(0.0, top), xlabel="x", title=title or "")
    # Fixed spot below the axis: never covers a curve, never moves between filmstrip frames.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize="small")
    ax.grid(True, alpha=0.3)
    return save_figure(fig, path)


def _open_rgb(paths: Sequence[PathLike]) -> list[Image.Image]:
    """Open frame files as RGB images resized to the first frame's size."""
    if not paths:
        raise GanforgeError("no frames given")
    frames: list[Image.Image] = []
    for p in paths:
        with Image.open(p) as img:
            frames.append(img.convert("RGB"))
    size = frames[0].size
    return [f if f.size == size else f.resize(size, Image.Resampling.LANCZOS) for f in frames]


def make_gif(
    frame_paths: Sequence[PathLike], out_path: PathLike, duration_ms: int = 200, loop: int = 0
) -> Path:
    """Build an animated GIF from saved frames (`loop=0` repeats forever).

    Pillow merges consecutive identical frames into one longer frame, so `n_frames` can be lower
    than the number of paths when training stalled; total duration is unchanged.
    """
    frames = _open_rgb(frame_paths)
    return save_pil(
        frames[0],
        out_path,
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=duration_ms,
        loop=loop,
    )


def make_evolution_strip(
    frame_paths: Sequence[PathLike], out_path: PathLike, n: int = 6, padding: int = 4
) -> Path:
    """Write one PNG with `n` frames, evenly spaced from first to last, side by side."""
    if n < 1:
        raise GanforgeError(f"make_evolution_strip needs n >= 1, got {n}")
    if not frame_paths:
        raise GanforgeError("no frames given")
    picks = np.unique(np.linspace(0, len(frame_paths) - 1, min(n, len(frame_paths))).round())
    frames = _open_rgb([frame_paths[int(i)] for i in picks])
    w, h = frames[0].size
    strip = Image.new("RGB", (len(frames) * (w + padding) + padding, h + 2 * padding), "white")
    for i, frame in enumerate(frames):
        strip.paste(frame, (padding + i * (w + padding), padding))
    return save_pil(strip, out_path)


class DensityFilmstrip:
    """Collects 1-D density frames during training (fixed x-range) for a GIF or a strip."""

    def __init__(self, folder: PathLike, xlim: tuple[float, float] | None = None) -> None:
        """Write frames under `folder`; `xlim` fixes the x-range (default: the first frame's)."""
        self.folder = Path(folder)
        self.xlim = xlim
        self.frames: list[Path] = []

    def add(self, real: np.ndarray, fake: np.ndarray, d_fn: DCurve, step: int) -> Path:
        """Draw one frame titled with `step`, saved as `frame_<step>.png`."""
        if self.xlim is None:
            self.xlim = _x_range(_samples(real, "real"), _samples(fake, "fake"))
        path = self.folder / f"frame_{step:08d}.png"
        plot_density_1d(real, fake, d_fn, path, title=f"step {step}", xlim=self.xlim)
        self.frames.append(path)
        return path

    def save_gif(self, out_path: PathLike, duration_ms: int = 200) -> Path:
        """Animate the frames collected so far."""
        return make_gif(self.frames, out_path, duration_ms)

    def save_strip(self, out_path: PathLike, n: int = 6) -> Path:
        """Side-by-side strip of `n` frames from first to last."""
        return make_evolution_strip(self.frames, out_path, n)
