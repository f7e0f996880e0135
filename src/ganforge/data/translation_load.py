"""Reading translation datasets from folders: A|B pairs (Pix2Pix) and two domain folders (CycleGAN).

Every file is decoded once with Pillow (a thread pool, as in `folder.py`), converted to RGB (gray
files too) and resized with bicubic to the load size `load_size(crop)`; the result is kept in
memory as uint8, nothing is cached on disk. Unreadable files are skipped and counted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganforge.data.folder import IMAGE_EXTENSIONS, _to_mode, decode_image, list_images
from ganforge.data.translation import PairedImages, UnpairedImages, load_size
from ganforge.errors import ConfigError, DataError, choices_error

DIRECTIONS = ("AtoB", "BtoA")
PAIRED_SPLITS = ("train", "val", "test")
UNPAIRED_SPLITS = ("train", "test")
DEFAULT_CROP = 256  # the papers' crop
PathArg = str | os.PathLike[str]
Arrays = tuple[np.ndarray, ...]


def check_options(split: str, splits: Sequence[str], direction: str, crop: int,
                  channels: int) -> None:
    """One-line errors for an unknown split or direction, a bad crop or channel count."""
    if split not in splits:
        raise ConfigError(f"unknown split '{split}'; valid splits: {', '.join(splits)}")
    if direction not in DIRECTIONS:
        raise choices_error("direction", direction, DIRECTIONS)
    if crop <= 0:
        raise ConfigError(f"image size must be positive, got {crop}; use --image-size 256")
    if channels not in (1, 3):
        raise ConfigError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels}")


def _chw(img: Image.Image) -> np.ndarray:
    """A Pillow image as a uint8 (C, H, W) array."""
    arr = np.asarray(img, dtype=np.uint8)
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def decode_pair(path: Path, size: int, channels: int = 3) -> Arrays | None:
    """The A (left) and B (right) halves of one file, each (C, size, size), or None if unreadable.

    A readable file that is not exactly twice as wide as high is a one-line DataError.
    """
    try:
        img = Image.open(path)
    except Exception:  # not an image, unreadable
        return None
    with img:
        w, h = img.size
        if w != 2 * h:
            raise DataError(f"{path} is {w}x{h} pixels; paired images must be exactly twice as "
                            "wide as high (A and B side by side)")
        try:
            img.draft("L" if channels == 1 else "RGB", (2 * size, size))  # JPEG: decode smaller
            both = _to_mode(img, channels)
            half, high = both.width / 2, both.height
            boxes = ((0, 0, half, high), (half, 0, both.width, high))
            return tuple(_chw(both.resize((size, size), Image.Resampling.BICUBIC, box=box))
                         for box in boxes)
        except Exception:  # truncated or corrupt data
            return None


def image_files(folder: Path, expected: str) -> list[Path]:
    """The image files under `folder`; a missing or empty folder is a one-line DataError."""
    files = list_images(folder) if folder.is_dir() else []
    if not files:
        state = "has no image files" if folder.is_dir() else "does not exist"
        exts = ",".join(e.lstrip(".") for e in IMAGE_EXTENSIONS)
        raise DataError(f"{folder} {state}; expected {expected} ({exts})")
    return files


def decode_all(files: list[Path], decode: Callable[[Path], Arrays | None],
               shapes: Sequence[tuple[int, ...]]) -> tuple[list[torch.Tensor], int]:
    """Decode `files` in a thread pool into uint8 tensors of `shapes` (one per output array);
    return them and the number of unreadable files skipped."""
    out = [np.empty((len(files), *shape), dtype=np.uint8) for shape in shapes]
    count = 0
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for arrays in pool.map(decode, files):
            if arrays is not None:
                for dest, arr in zip(out, arrays):
                    dest[count] = arr
                count += 1
    folder = files[0].parent
    if count == 0:
        raise DataError(f"none of the {len(files)} image files in {folder} could be read")
    if count < len(files):
        print(f"warning: skipped {len(files) - count} unreadable image file(s) in {folder}",
              file=sys.stderr)
    return [torch.from_numpy(arr[:count]) for arr in out], len(files) - count


def split_folder(root: Path, split: str) -> Path:
    """`root/split`, or `root` itself for split train when it holds the images directly."""
    if (root / split).is_dir():
        return root / split
    has_splits = any((root / s).is_dir() for s in PAIRED_SPLITS)
    if split == "train" and root.is_dir() and not has_splits:
        return root
    raise DataError(f"{root / split} does not exist; expected a folder of A|B images (A and B "
                    f"side by side) for split {split} in {root}")


def load_paired(root: PathArg, split: str = "train", direction: str = "AtoB",
                image_size: int | None = None, *, channels: int = 3, flip: bool = True,
                name: str | None = None, domains: tuple[str, str] = ("A", "B")) -> PairedImages:
    """Paired A|B images of `root/split` at load size, A the generator's input (BtoA swaps).

    `image_size` is the training crop (default 256); `domains` names the left and right halves.
    """
    crop = DEFAULT_CROP if image_size is None else int(image_size)
    check_options(split, PAIRED_SPLITS, direction, crop, channels)
    folder = split_folder(Path(root).expanduser(), split)
    files = image_files(folder, "A|B images, each twice as wide as high")
    size = load_size(crop)
    decode = partial(decode_pair, size=size, channels=channels)
    (a, b), skipped = decode_all(files, decode, [(channels, size, size)] * 2)
    if direction == "BtoA":
        a, b, domains = b, a, (domains[1], domains[0])
    return PairedImages(name or f"paired:{root}", a, b, crop, flip, domains, skipped)


def _decode_one(path: Path, size: int, channels: int) -> Arrays | None:
    """One image squared to `size` (folder.py's decoder), as a 1-tuple."""
    arr = decode_image(path, size, channels)
    return None if arr is None else (arr,)


def load_domain(folder: Path, size: int, channels: int = 3) -> tuple[torch.Tensor, int]:
    """Every image of one domain folder as uint8 (N, C, size, size), and the number skipped."""
    files = image_files(folder, "the images of one domain")
    decode = partial(_decode_one, size=size, channels=channels)
    (images,), skipped = decode_all(files, decode, [(channels, size, size)])
    return images, skipped


def load_unpaired(root: PathArg, split: str = "train", direction: str = "AtoB",
                  image_size: int | None = None, *, channels: int = 3, flip: bool = True,
                  name: str | None = None,
                  domains: tuple[str, str] = ("A", "B")) -> UnpairedImages:
    """Unpaired domains `root/<split>A` and `root/<split>B` at load size (BtoA swaps them).

    `image_size` is the training crop (default 256); images are squared (centre crop) first.
    """
    crop = DEFAULT_CROP if image_size is None else int(image_size)
    check_options(split, UNPAIRED_SPLITS, direction, crop, channels)
    base, size = Path(root).expanduser(), load_size(crop)
    a, skipped_a = load_domain(base / f"{split}A", size, channels)
    b, skipped_b = load_domain(base / f"{split}B", size, channels)
    if direction == "BtoA":
        a, b, domains = b, a, (domains[1], domains[0])
    return UnpairedImages(name or f"unpaired:{root}", a, b, crop, flip, domains,
                          skipped=skipped_a + skipped_b)
