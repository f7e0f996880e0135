"""Shared plumbing for the pictures: atomic PNG writes and headless Matplotlib figures."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from ganforge.errors import GanforgeError

PathLike = str | os.PathLike[str]


def _read_umask() -> int:
    """The process umask (read once at import; os.umask can only be read by setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# mkstemp makes 0600 files; finished files get the mode a plain open() would give them.
_FILE_MODE = 0o666 & ~_read_umask()


def atomic_write(path: PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Create parent folders, let `write` fill a temp file beside `path`, then rename it over."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_pil(image: Image.Image, path: PathLike, fmt: str = "PNG", **kwargs: object) -> Path:
    """Write a Pillow image atomically in format `fmt` (PNG unless told)."""
    return atomic_write(path, lambda fh: image.save(fh, format=fmt, **kwargs))


def new_figure(width: float = 7.0, height: float = 4.5, dpi: int = 100) -> Figure:
    """A Figure attached to an Agg canvas: no pyplot, no global state, no display needed."""
    fig = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure_to_image(fig: Figure) -> Image.Image:
    """Render `fig` and return it as an RGB Pillow image."""
    canvas = fig.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return Image.fromarray(rgba[..., :3].copy(), mode="RGB")


def save_figure(fig: Figure, path: PathLike) -> Path:
    """Render `fig` to an RGB PNG at `path` atomically and return the path."""
    return save_pil(figure_to_image(fig), path)


def numpy_d_fn(
    d: Callable[[torch.Tensor], torch.Tensor], sigmoid: bool = True, device: str = "cpu"
) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap a torch discriminator (logits out) as the ndarray -> ndarray `d_fn` the plots take."""

    def fn(x: np.ndarray) -> np.ndarray:
        """D(x) for an (N,) or (N, D) array, as an (N,) float array."""
        with torch.no_grad():
            t = torch.as_tensor(np.asarray(x), dtype=torch.float32, device=device)
            out = d(t.reshape(len(t), -1) if t.ndim == 1 else t)
            out = torch.sigmoid(out) if sigmoid else out
        return out.reshape(-1).float().cpu().numpy()

    return fn


def eval_d(d_fn: Callable[[np.ndarray], object], x: np.ndarray) -> np.ndarray:
    """Call `d_fn` on `x` and check it returns one finite-or-nan value per row."""
    out = d_fn(x)
    if isinstance(out, torch.Tensor):
        out = out.detach().float().cpu().numpy()
    vals = np.asarray(out, dtype=np.float64).reshape(-1)
    if vals.shape[0] != x.shape[0]:
        raise GanforgeError(
            f"d_fn returned {vals.shape[0]} values for {x.shape[0]} inputs; "
            "it must return one D(x) per point"
        )
    return vals
