"""Image grids and image files on Pillow and torch (no torchvision)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor

from ganforge.errors import DataError, GanforgeError
from ganforge.viz._common import PathLike, save_pil


def _as_batch(images: Tensor) -> Tensor:
    """Check `images` is (B, C, H, W) or (C, H, W) with C in {1, 3}; return it as a 4-D batch."""
    if not isinstance(images, Tensor):
        images = torch.as_tensor(np.asarray(images))
    if images.ndim == 3:
        images = images.unsqueeze(0)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise GanforgeError(
            f"expected images shaped (B, C, H, W) with C 1 or 3, got {tuple(images.shape)}"
        )
    if images.shape[0] == 0:
        raise GanforgeError("no images to draw: the batch is empty")
    return images


def to_uint8(images: Tensor) -> Tensor:
    """Map float images in [-1, 1] to uint8 in [0, 255] (clamped; uint8 input passes through)."""
    images = images.detach().cpu()
    if images.dtype == torch.uint8:
        return images
    scaled = (images.float().clamp(-1.0, 1.0) + 1.0) * 127.5
    return scaled.round().to(torch.uint8)


def _pad_uint8(pad_value: float) -> int:
    """The uint8 level of a pad value given on the [-1, 1] image scale."""
    return int(round((min(max(pad_value, -1.0), 1.0) + 1.0) * 127.5))


def make_grid(images: Tensor, nrow: int = 8, padding: int = 2, pad_value: float = 1.0) -> Tensor:
    """Tile (B, C, H, W) images in [-1, 1] into a uint8 (H', W', C) tensor, `nrow` per row.

    Layout matches torchvision: min(nrow, B) columns, ceil(B / columns) rows, `padding` pixels
    around every cell, and `pad_value` (on the [-1, 1] scale; 1.0 is white) in the gaps.
    """
    if nrow < 1 or padding < 0:
        raise GanforgeError(f"make_grid needs nrow >= 1 and padding >= 0, got {nrow}, {padding}")
    batch = to_uint8(_as_batch(images))
    b, c, h, w = batch.shape
    ncol = min(nrow, b)
    nrows = math.ceil(b / ncol)
    grid = torch.full(
        (nrows * (h + padding) + padding, ncol * (w + padding) + padding, c),
        _pad_uint8(pad_value),
        dtype=torch.uint8,
    )
    for i in range(b):
        top = (i // ncol) * (h + padding) + padding
        left = (i % ncol) * (w + padding) + padding
        grid[top : top + h, left : left + w] = batch[i].permute(1, 2, 0)
    return grid


def _to_pil(array: Tensor | np.ndarray) -> Image.Image:
    """A uint8 (H, W, C) array as a Pillow image: mode "L" for one channel, "RGB" for three."""
    arr = array.numpy() if isinstance(array, Tensor) else np.asarray(array)
    if arr.ndim == 3 and arr.shape[2] == 1:
        return Image.fromarray(np.ascontiguousarray(arr[:, :, 0]), mode="L")
    return Image.fromarray(np.ascontiguousarray(arr), mode="RGB")


def save_grid(
    images: Tensor, path: PathLike, nrow: int = 8, padding: int = 2, pad_value: float = 1.0
) -> Path:
    """Write `make_grid(images, ...)` as a PNG (grayscale for 1 channel) and return the path."""
    return save_pil(_to_pil(make_grid(images, nrow, padding, pad_value)), path)


def _label_strip(labels: Sequence[str], row_h: int, padding: int, mode: str) -> Image.Image:
    """A white column holding one text label vertically centred per grid row."""
    font = ImageFont.load_default()
    probe = ImageDraw.Draw(Image.new(mode, (1, 1)))
    width = max(int(probe.textlength(str(t), font=font)) for t in labels) + 2 * padding + 4
    strip = Image.new(mode, (width, len(labels) * (row_h + padding) + padding), "white")
    draw = ImageDraw.Draw(strip)
    for r, text in enumerate(labels):
        y = padding + r * (row_h + padding) + row_h // 2
        draw.text((padding + 2, y), str(text), fill="black", font=font, anchor="lm")
    return strip


def save_image_grid_rows(
    rows: Sequence[Tensor],
    path: PathLike,
    labels: Sequence[str] | None = None,
    padding: int = 2,
    pad_value: float = 1.0,
) -> Path:
    """Write a grid with one row per tensor (rows may differ in length), labels on the left."""
    if not rows:
        raise GanforgeError("save_image_grid_rows needs at least one row")
    if labels is not None and len(labels) != len(rows):
        raise GanforgeError(f"got {len(labels)} labels for {len(rows)} rows")
    batches = [_as_batch(r) for r in rows]
    shapes = {tuple(b.shape[1:]) for b in batches}
    if len(shapes) != 1:
        raise GanforgeError(f"all rows need the same (C, H, W); got {sorted(shapes)}")
    width = max(b.shape[0] for b in batches)
    c, h, w = batches[0].shape[1:]
    blank = torch.full((1, c, h, w), float(pad_value))
    full = [torch.cat([b.float().cpu(), blank.expand(width - len(b), -1, -1, -1)]) for b in batches]
    image = _to_pil(make_grid(torch.cat(full), width, padding, pad_value))
    if labels is not None:
        strip = _label_strip(labels, h, padding, image.mode)
        joined = Image.new(image.mode, (strip.width + image.width, image.height), "white")
        joined.paste(strip, (0, 0))
        joined.paste(image, (strip.width, 0))
        image = joined
    return save_pil(image, path)


def save_images(
    images: Tensor, folder: PathLike, prefix: str = "img", start: int = 0
) -> list[Path]:
    """Write each image as `<folder>/<prefix>_<start + i:06d>.png`; return the paths."""
    batch = to_uint8(_as_batch(images)).permute(0, 2, 3, 1)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        save_pil(_to_pil(img), folder / f"{prefix}_{start + i:06d}.png")
        for i, img in enumerate(batch)
    ]


def load_image(path: PathLike, channels: int | None = None) -> Tensor:
    """Read an image file as a float (C, H, W) tensor in [-1, 1]; C is 1 for grayscale else 3."""
    if channels not in (None, 1, 3):
        raise GanforgeError(f"load_image channels must be 1, 3 or None, got {channels}")
    path = Path(path)
    try:
        with Image.open(path) as img:
            gray = img.mode in ("1", "L", "LA", "I", "I;16", "F")
            mode = "L" if channels == 1 or (channels is None and gray) else "RGB"
            arr = np.asarray(img.convert(mode), dtype=np.uint8)
    except FileNotFoundError as exc:
        raise DataError(f"image not found: {path}") from exc
    except OSError as exc:
        raise DataError(f"cannot read image {path}: {exc}") from exc
    t = torch.from_numpy(arr.copy()).float()
    t = t.unsqueeze(0) if t.ndim == 2 else t.permute(2, 0, 1)
    return t / 127.5 - 1.0
