"""CelebA (Liu et al. 2015) aligned faces with their 40 binary attributes, for StarGAN.

Two layouts are found under `--data-dir`, `$GANFORGE_DATA` or the cache, in that order:
`celeba/img_align_celeba/` (the official 202,599 faces at 178x218) and the shared subset
`celeba_10k_89x109/images/` (10,000 faces at 89x109), each with `list_attr_celeba.txt` (first
line the count, second the attribute names, then `file v1 … v40`, values -1/1; the official
`Anno/` folder is accepted too). StarGAN crops the central 178x178 square of a 178x218 face and
resizes it (`CenterCrop(178)`, `Resize(128)`); the same square, scaled, is the central 89x89 of
the subset's faces. The split is fixed: the last 10 % of the attribute file's rows are held out
(`test`), the rest is `train`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganforge.data.folder import _to_mode, open_image
from ganforge.data.idx import search_roots
from ganforge.data.multidomain import MultiDomainImages
from ganforge.data.translation_load import decode_all
from ganforge.errors import ConfigError, DataError

NAME = "celeba"
ATTR_FILE = "list_attr_celeba.txt"
LAYOUTS = (("celeba", "img_align_celeba"), ("celeba_10k_89x109", "images"))
HELD_OUT = 0.1  # the last 10 % of the rows
DEFAULT_SIZE = 128
SPLITS = ("train", "test")
PathArg = str | os.PathLike[str]


def parse_attr_file(path: Path) -> tuple[list[str], tuple[str, ...], torch.Tensor]:
    """(file names, attribute names, attributes (N, A) uint8 in {0, 1}) of a CelebA attribute
    file; anything malformed is a one-line DataError naming the line."""
    lines = path.read_text(errors="replace").splitlines()
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise DataError(f"{path} is not a CelebA attribute file: line 1 must be the number of "
                        "images, line 2 the attribute names")
    names = tuple(lines[1].split())
    rows = [line.split() for line in lines[2:] if line.strip()]
    files, values = [], np.empty((len(rows), len(names)), dtype=np.int8)
    for k, row in enumerate(rows):
        if len(row) != len(names) + 1 or any(v not in ("1", "-1") for v in row[1:]):
            raise DataError(f"{path} line {k + 3}: expected a file name and {len(names)} values "
                            f"of 1 or -1, got {len(row) - 1} values")
        files.append(row[0])
        values[k] = [int(v) for v in row[1:]]
    if not names or int(lines[0]) != len(rows):
        raise DataError(f"{path}: line 1 announces {lines[0].strip()} images but {len(rows)} "
                        f"rows follow (with {len(names)} attribute names)")
    return files, names, torch.from_numpy((values > 0).astype(np.uint8))


def _layout(folder: Path, images: str) -> tuple[Path, Path] | None:
    """(images folder, attribute file) of one candidate folder, or None."""
    attr = next((p for p in (folder / ATTR_FILE, folder / "Anno" / ATTR_FILE) if p.is_file()),
                None)
    return (folder / images, attr) if attr is not None and (folder / images).is_dir() else None


def find_celeba(data_dir: PathArg | None = None) -> tuple[Path, Path]:
    """(images folder, attribute file): `data_dir` itself when it holds a layout, else the first
    layout under the search roots; none is a one-line DataError listing where it looked."""
    candidates = [(Path(data_dir).expanduser(), sub) for _, sub in LAYOUTS] if data_dir else []
    candidates += [(root / name, sub) for root in search_roots(data_dir) for name, sub in LAYOUTS]
    for folder, sub in candidates:
        found = _layout(folder, sub)
        if found:
            return found
    searched = ", ".join(dict.fromkeys(str(f) for f, _ in candidates))
    raise DataError(f"CelebA not found: put img_align_celeba/ and {ATTR_FILE} in DIR/celeba/ (or "
                    f"the subset in DIR/celeba_10k_89x109/) and pass --data-dir DIR or set "
                    f"GANFORGE_DATA=DIR (searched: {searched})")


def check_rows(images: Path, attr_file: Path, files: list[str]) -> None:
    """A one-line DataError unless the attribute rows name exactly the image files."""
    on_disk = set(os.listdir(images))
    missing = [f for f in files if f not in on_disk]
    extra = sorted(on_disk - set(files) - {".DS_Store"})
    if missing or extra or len(set(files)) != len(files):
        what = (f"{len(missing)} listed images are missing (e.g. {missing[0]})" if missing else
                f"{len(extra)} images are not listed (e.g. {extra[0]})" if extra else
                "some rows repeat a file name")
        raise DataError(f"{attr_file} does not match {images}: {what}; use the attribute file "
                        "that came with these images")


def decode_face(path: Path, size: int) -> tuple[np.ndarray] | None:
    """The central square of one face (the side of its width), resized to `size`, as uint8
    (3, size, size); None when unreadable."""
    try:
        with open_image(path) as img:
            w, h = img.size
            img.draft("RGB", (size, size * h // max(w, 1)))  # JPEG: decode at a smaller scale
            side, top = img.size[0], (img.size[1] - img.size[0]) // 2
            if side > img.size[1]:  # wider than high: not an aligned face
                return None
            square = _to_mode(img, 3).crop((0, top, side, top + side))  # then resize, as
            face = square.resize((size, size), Image.Resampling.BICUBIC)  # CenterCrop, Resize
            return (np.asarray(face, dtype=np.uint8).transpose(2, 0, 1),)
    except Exception:  # unreadable, truncated, not an image
        return None


def split_rows(n: int, split: str) -> slice:
    """The rows of `split`: the last 10 % (at least one) are `test`, the rest `train`."""
    n_test = max(1, int(round(n * HELD_OUT))) if n > 1 else 0
    return slice(0, n - n_test) if split == "train" else slice(n - n_test, n)


@dataclass(frozen=True)
class CelebaRows:
    """The images of one split: their folder, the attribute file, the files (in the file's
    order), the attribute names, the attributes (N, A) uint8 and the rule that picked them."""

    images: Path
    attr_file: Path
    files: list[str]
    names: tuple[str, ...]
    attrs: torch.Tensor
    rule: str


def celeba_rows(split: str, data_dir: PathArg | None, channels: int | None) -> CelebaRows:
    """Find CelebA and pick the rows of `split`; one-line errors for a bad split, channel
    count, or attribute file."""
    if split not in SPLITS:
        raise ConfigError(f"unknown split '{split}' for celeba; valid splits: {', '.join(SPLITS)}")
    if channels not in (None, 3):
        raise ConfigError(f"celeba faces are RGB; leave out --channels or use 3, not {channels}")
    images, attr_file = find_celeba(data_dir)
    files, names, attrs = parse_attr_file(attr_file)
    check_rows(images, attr_file, files)
    rows = split_rows(len(files), split)
    if rows.start >= rows.stop:
        raise DataError(f"{attr_file} lists {len(files)} images: too few for a train/test split")
    rule = (f"{split}: rows {rows.start + 1}-{rows.stop} of the {len(files)} in {ATTR_FILE} "
            f"(test = the last {HELD_OUT:.0%})")
    return CelebaRows(images, attr_file, files[rows], names, attrs[rows], rule)


def load_celeba(split: str = "train", data_dir: PathArg | None = None,
                image_size: int | None = None, channels: int | None = None,
                flip: bool = True) -> MultiDomainImages:
    """CelebA faces of `split`, centre-cropped and resized to `image_size` (default 128), with
    all the attribute file's attributes."""
    rows = celeba_rows(split, data_dir, channels)
    size = DEFAULT_SIZE if image_size is None else int(image_size)
    paths = [rows.images / f for f in rows.files]
    (data,), skipped = decode_all(paths, partial(decode_face, size=size), [(3, size, size)])
    if skipped:
        raise DataError(f"{skipped} CelebA images in {rows.images} could not be read; the "
                        "attribute rows would no longer match the images")
    return MultiDomainImages(NAME, data, rows.attrs, rows.names, flip=flip, split_rule=rows.rule)
