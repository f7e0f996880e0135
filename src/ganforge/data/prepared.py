"""Prepared data: a dataset decoded once by `ganforge prepare` into a raw uint8 file that training
reads from disk batch by batch, so memory stays flat whatever the dataset's size.

A prepared dataset is a folder ROOT with one subfolder per split, each holding

    header.json   format and version, dataset, split, image size, channels, shape (N, C, S, S),
                  dtype, classes or attribute names, split rule, skipped files, and the source's
                  fingerprint (SHA256 of its archives / attribute file, of its folders' listings)
    images.u8     the images: raw uint8, (N, C, S, S) in C order, no header
    labels.i64    class labels, int64 little-endian (N,), when the dataset has classes
    attrs.u8      binary attributes, uint8 (N, A), when it has attributes

ROOT defaults to `$GANFORGE_CACHE/<dataset>-<size>px-<channels>ch` (`GANFORGE_CACHE` defaults
to `~/.cache/ganforge/prepared`), where `--data NAME` finds it for the same image size and
channels; `--data prepared:ROOT` names any ROOT. A batch's rows are read from images.u8 one by
one (`rows.RowReader`): they are the only bytes copied into the process. The dataset's `data`
(or `images`), for code that reads it whole (evaluation), maps the file copy-on-write
(`np.memmap` mode "c": opened read-only, nothing written to the tensor reaches the file). The
loader's order and augmentation are the same as in memory, so a run on prepared data is bitwise
the run on in-memory data.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
from pathlib import Path

import numpy as np
import torch

from ganforge.data.dataset import InMemoryDataset
from ganforge.data.header import HEADER, Header, read_header
from ganforge.data.idx import cache_dir
from ganforge.data.multidomain import MultiDomainImages
from ganforge.data.rows import RowReader
from ganforge.data.sources import (
    FOLDER_PREFIX,
    SourceRef,
    canonical,
    image_shape,
    locate,
    recorded,
)
from ganforge.errors import DataError

PREFIX = "prepared:"
IMAGES, LABELS, ATTRS = "images.u8", "labels.i64", "attrs.u8"
PreparedData = InMemoryDataset | MultiDomainImages


def cache_root() -> Path:
    """Where prepared data goes by default: `$GANFORGE_CACHE`, else the download cache's
    `prepared/` (`$XDG_CACHE_HOME/ganforge/prepared` or `~/.cache/ganforge/prepared`)."""
    env = os.environ.get("GANFORGE_CACHE")
    return Path(env).expanduser() if env else cache_dir() / "prepared"


def slug(dataset: str) -> str:
    """A file name for a (canonical) dataset: a folder by its name and a hash of its path."""
    if not dataset.startswith(FOLDER_PREFIX):
        return dataset
    path = dataset[len(FOLDER_PREFIX):]
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(path).name).strip("._") or "root"
    return f"folder-{base}-{hashlib.sha256(path.encode()).hexdigest()[:10]}"


def default_root(dataset: str, channels: int, size: int) -> Path:
    """The default ROOT of a (canonical) dataset prepared at `size` px and `channels`."""
    return cache_root() / f"{slug(dataset)}-{size}px-{channels}ch"


def prepare_command(dataset: str, size: int, channels: int, split: str, root: Path) -> str:
    """The `ganforge prepare` command that writes `root/split` (the fix every error names)."""
    cmd = f"ganforge prepare {shlex.quote(dataset)} --image-size {size}"
    if image_shape(dataset, size, None)[0] != channels:
        cmd += f" --channels {channels}"
    cmd += f" --split {split}"
    if root.resolve() != default_root(dataset, channels, size).resolve():
        cmd += f" --out {shlex.quote(str(root))}"
    return cmd


def _again(header: Header, root: Path) -> str:
    """`run `ganforge prepare …` again` for the split `header` describes."""
    cmd = prepare_command(header.dataset, header.image_size, header.channels, header.split, root)
    return f"run `{cmd}` again"


def check_files(folder: Path, header: Header, fix: str) -> None:
    """One-line errors unless each data file has the size the header gives it."""
    n = header.count
    wanted = {IMAGES: n * header.channels * header.image_size ** 2}
    if header.num_classes is not None:
        wanted[LABELS] = n * 8
    if header.attributes:
        wanted[ATTRS] = n * len(header.attributes)
    for name, size in wanted.items():
        path = folder / name
        if not path.is_file():
            raise DataError(f"prepared data {folder} has no {name}; {fix}")
        actual = path.stat().st_size
        if actual != size:
            what = "truncated" if actual < size else "longer than its header says"
            raise DataError(f"prepared data {path} is {what} ({actual} bytes, header.json "
                            f"promises {size}); {fix}")


def _part(key: str) -> str:
    """A digest's key as errors name it: `file:NAME` -> NAME, `folder:.` -> its image files."""
    name = key.split(":", 1)[1]
    return "its image files" if name == "." else name


def check_source(folder: Path, header: Header, ref: SourceRef | None, fix: str) -> None:
    """One-line error when the source, where it is present, is not the one prepared."""
    if header.source is None or ref is None or not ref.root.is_dir():
        return
    now = ref.digests()
    changed = sorted(_part(k) for k in {*now, *header.source}
                     if now.get(k) != header.source.get(k))
    if changed:
        raise DataError(f"prepared data {folder} does not match its source {ref.root} any more "
                        f"({', '.join(changed)} changed); {fix}")


def _side_data(folder: Path, header: Header, fix: str) -> tuple[torch.Tensor | None, ...]:
    """(labels (N,) int64 or None, attrs (N, A) uint8 or None), held in memory and checked."""
    labels = attrs = None
    if header.num_classes is not None:
        raw = np.fromfile(folder / LABELS, dtype="<i8")
        if raw.size and (raw.min() < 0 or raw.max() >= header.num_classes):
            raise DataError(f"prepared data {folder / LABELS} has labels outside 0.."
                            f"{header.num_classes - 1}; {fix}")
        labels = torch.from_numpy(raw.astype(np.int64))
    if header.attributes:
        raw = np.fromfile(folder / ATTRS, dtype=np.uint8).reshape(header.count, -1)
        if raw.size and raw.max() > 1:
            raise DataError(f"prepared data {folder / ATTRS} has attributes other than 0 and 1; "
                            f"{fix}")
        attrs = torch.from_numpy(raw)
    return labels, attrs


def load_split(folder: Path, header: Header, fix: str) -> PreparedData:
    """The dataset of a checked split folder: images mapped from disk, labels in memory."""
    mapped = np.memmap(folder / IMAGES, dtype=np.uint8, mode="c", shape=header.shape)
    images = torch.from_numpy(mapped)  # (N, C, S, S), backed by the file
    reader = RowReader(folder / IMAGES, header.shape)  # batches: row by row
    labels, attrs = _side_data(folder, header, fix)
    if attrs is not None:
        return MultiDomainImages(header.dataset, images, attrs, header.attributes,
                                 split_rule=header.split_rule, reader=reader)
    return InMemoryDataset(header.dataset, images, labels, num_classes=header.num_classes,
                           skipped=header.skipped, reader=reader)


def open_split(folder: Path, header: Header, ref: SourceRef | None, fix: str) -> PreparedData:
    """Check a split folder (file sizes, the source where `ref` is present) and open it."""
    check_files(folder, header, fix)
    check_source(folder, header, ref, fix)
    return load_split(folder, header, fix)


def find_prepared(name: str, split: str, data_dir: str | None, image_size: int | None,
                  channels: int | None) -> PreparedData | None:
    """The prepared data `--data name` picks up from the default place (for this split, size
    and channels), or None when there is none (`name` then loads in memory)."""
    dataset = canonical(name)
    if dataset is None:
        return None
    ch, size = image_shape(dataset, image_size, channels)
    root = default_root(dataset, ch, size)
    folder = root / split
    if not (folder / HEADER).is_file():
        return None
    fix = f"run `{prepare_command(dataset, size, ch, split, root)}` again"
    header = read_header(folder / HEADER, fix)
    found = (header.dataset, header.split, header.channels, header.image_size)
    if found != (dataset, split, ch, size):
        raise DataError(f"prepared data {folder} holds {found[0]} {found[1]} at {found[2]}x"
                        f"{found[3]}x{found[3]}, not {dataset} {split} at {ch}x{size}x{size}; "
                        f"{fix}")
    return open_split(folder, header, locate(dataset, split, data_dir), fix)


def open_prepared(path: str, split: str, image_size: int | None = None,
                  channels: int | None = None) -> PreparedData:
    """`--data prepared:ROOT`: split `split` of ROOT (ROOT may be a split folder itself), checked
    against its source where that is still present."""
    root = Path(path).expanduser()
    if (root / HEADER).is_file():
        root = root.parent
    folder = root / split
    generic = (f"ganforge prepare DATASET --image-size N --split {split} --out {root}")
    if not (folder / HEADER).is_file():
        have = sorted(p.parent.name for p in root.glob(f"*/{HEADER}")) or ["none"]
        raise DataError(f"{root} holds no prepared {split} split (it has: {', '.join(have)}); "
                        f"run `{generic}`")
    header = read_header(folder / HEADER, f"run `{generic}` again")
    fix = _again(header, root)
    if header.split != split:
        raise DataError(f"prepared data {folder} holds the {header.split} split, not {split}; "
                        f"{fix}")
    if (channels or header.channels, image_size or header.image_size) != (header.channels,
                                                                         header.image_size):
        raise DataError(f"{folder} holds {header.channels}-channel {header.image_size} px "
                        "images; drop --image-size and --channels, or prepare the size you want "
                        "with `ganforge prepare` into another --out")
    return open_split(folder, header, recorded(header.dataset, split, header.source_root), fix)
