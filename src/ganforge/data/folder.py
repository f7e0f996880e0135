"""`folder:PATH` datasets: every image under a folder, squared to one size, held as uint8."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from ganforge.data.dataset import InMemoryDataset
from ganforge.errors import ConfigError, DataError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
#: Decoders Pillow may use, whatever a file's name says: Pillow picks the decoder from the
#: content, and some (EPS hands the file to Ghostscript) run external programs.
IMAGE_FORMATS = ("JPEG", "PNG", "BMP", "GIF", "WEBP", "TIFF")
DEFAULT_IMAGE_SIZE = 64
DEFAULT_CHANNELS = 3


def list_images(root: Path) -> list[Path]:
    """All image files under `root`, recursively, in sorted order."""
    files = (p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
    return sorted(p for p in files if p.is_file())


@cache
def _decoders() -> tuple[str, ...]:
    """IMAGE_FORMATS this Pillow build can decode."""
    Image.init()
    return tuple(f for f in IMAGE_FORMATS if f in Image.OPEN)


def open_image(path: Path) -> Image.Image:
    """`Image.open` limited to IMAGE_FORMATS (an EPS or other file named .png is refused)."""
    return Image.open(path, formats=_decoders())


def _to_mode(img: Image.Image, channels: int) -> Image.Image:
    """Convert to RGB or L, compositing any transparency over white."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return img.convert("L" if channels == 1 else "RGB")


def square(img: Image.Image, size: int) -> Image.Image:
    """Resize the shorter side to `size` and centre-crop to `size` x `size` in one resample."""
    w, h = img.size
    side = min(w, h)
    box = ((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2)
    return img.resize((size, size), Image.Resampling.BICUBIC, box=box)


def decode_image(path: Path, size: int, channels: int) -> np.ndarray | None:
    """Decode one file to a uint8 (C, size, size) array, or None if it cannot be read."""
    try:
        with open_image(path) as img:
            img.draft("L" if channels == 1 else "RGB", (size, size))
            try:
                img = ImageOps.exif_transpose(img)
            except Exception:  # a broken EXIF block should not lose the image
                pass
            arr = np.asarray(square(_to_mode(img, channels), size), dtype=np.uint8)
    except Exception:  # unreadable, truncated, not an image, decompression bomb...
        return None
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def _check_options(image_size: int | None, channels: int | None) -> tuple[int, int]:
    """Fill in defaults and validate the size and channel options."""
    size = DEFAULT_IMAGE_SIZE if image_size is None else int(image_size)
    ch = DEFAULT_CHANNELS if channels is None else int(channels)
    if size <= 0:
        raise ConfigError(f"image size must be positive, got {size}; use --image-size 64")
    if ch not in (1, 3):
        raise ConfigError(f"channels must be 1 (grayscale) or 3 (RGB), got {ch}")
    return size, ch


def _find_files(root: Path) -> list[Path]:
    """Image files under `root`, with one-line errors for a missing or empty folder."""
    if not root.exists():
        raise DataError(f"image folder {root} does not exist; check the path in folder:PATH")
    if not root.is_dir():
        raise DataError(f"{root} is not a folder; folder:PATH needs a folder of images")
    files = list_images(root)
    if not files:
        exts = ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS)
        raise DataError(f"no image files ({exts}) found under {root}")
    return files


def load_folder(
    path: str | os.PathLike[str],
    image_size: int | None = None,
    channels: int | None = None,
    *,
    name: str | None = None,
) -> InMemoryDataset:
    """Load every image under `path` as uint8 (N, channels, size, size); default 64px RGB."""
    size, ch = _check_options(image_size, channels)
    root = Path(path).expanduser()
    files = _find_files(root)
    out = np.empty((len(files), ch, size, size), dtype=np.uint8)
    decode = partial(decode_image, size=size, channels=ch)
    count = 0
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for arr in pool.map(decode, files):
            if arr is not None:
                out[count] = arr
                count += 1
    skipped = len(files) - count
    if count == 0:
        raise DataError(f"none of the {len(files)} image files under {root} could be read")
    if skipped:
        print(f"warning: skipped {skipped} unreadable image file(s) under {root}", file=sys.stderr)
    data = torch.from_numpy(out[:count])
    return InMemoryDataset(name or f"folder:{path}", data, kind="image", skipped=skipped)
