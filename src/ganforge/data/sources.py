"""What `ganforge prepare` reads: where a dataset's files lie, a cheap fingerprint of them, and
its images decoded and shaped a chunk at a time, so that preparing a dataset larger than memory
keeps memory flat.

Datasets: `mnist` and `fashion-mnist` (the IDX archives, fingerprinted by their SHA256),
`celeba` (the attribute file by its SHA256, the image folder by its listing) and `folder:PATH`
(its listing: every image's relative name and size, which adding, removing, renaming or resizing
a file changes, at the cost of a `stat` per file). Each chunk comes from the same
functions as the in-memory loaders (`shaping.shape_images`, `folder.decode_image`,
`celeba.decode_face`), which work image by image, so a prepared cache holds the very bytes
`load_dataset` holds in memory.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from ganforge.data import idx
from ganforge.data.celeba import DEFAULT_SIZE as CELEBA_SIZE
from ganforge.data.celeba import LAYOUTS as CELEBA_LAYOUTS
from ganforge.data.celeba import NAME as CELEBA
from ganforge.data.celeba import _layout, celeba_rows, decode_face, find_celeba
from ganforge.data.folder import _check_options, _find_files, decode_image, list_images
from ganforge.data.shaping import check_image_options, shape_images
from ganforge.errors import ConfigError, DataError

FOLDER_PREFIX = "folder:"
IDX_SETS = ("mnist", "fashion-mnist")
IDX_SIZE = 28  # their native side
#: What `ganforge prepare` accepts (translation data and stacked-mnist stay in memory).
PREPARABLE = (*IDX_SETS, CELEBA, FOLDER_PREFIX + "PATH")
CHUNK_BYTES = 1 << 26  # uint8 image bytes decoded and written at a time
MISSING = "missing"  # the digest of a part of the source that is not there


@dataclass(frozen=True)
class SourceRef:
    """Where a dataset's source lies: `files` (hashed by content) and `folders` (hashed by
    their image listing), relative to `root`."""

    root: Path
    files: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()

    def digests(self) -> dict[str, str]:
        """`file:NAME` and `folder:NAME` -> SHA256 (`missing` for a part not there)."""
        out = {f"file:{f}": _file_digest(self.root / f) for f in self.files}
        return {**out, **{f"folder:{d}": listing_digest(self.root / d) for d in self.folders}}


def _file_digest(path: Path) -> str:
    """SHA256 of a file's bytes, or `missing`."""
    try:
        return idx.sha256_file(path)
    except OSError:
        return MISSING


def listing_digest(folder: Path) -> str:
    """SHA256 of the image files under `folder`: sorted relative names and sizes."""
    if not folder.is_dir():
        return MISSING
    digest = hashlib.sha256()
    for path in list_images(folder):
        digest.update(f"{path.relative_to(folder).as_posix()}\0{path.stat().st_size}\n".encode())
    return digest.hexdigest()


@dataclass
class Source:
    """One split of a dataset, ready to be written a chunk at a time.

    `chunks()` yields uint8 (k, C, S, S) arrays of the readable images, in order; `count` is the
    number of images to decode (a folder's unreadable files are skipped, so it may write fewer).
    `labels` int64 (count,) and `attrs` uint8 (count, A) are small and held whole.
    """

    dataset: str  # mnist, fashion-mnist, celeba or folder:ABSOLUTE_PATH
    split: str
    shape: tuple[int, int, int]  # (C, S, S)
    count: int
    ref: SourceRef | None  # None: generated data, no source to check
    chunks: Callable[[], Iterator[np.ndarray]]
    labels: np.ndarray | None = None
    num_classes: int | None = None
    attrs: np.ndarray | None = None
    attributes: tuple[str, ...] = ()
    split_rule: str = ""


def canonical(name: str) -> str | None:
    """The dataset's name as a cache knows it (a folder by its absolute path), or None when
    `ganforge prepare` does not handle it."""
    if name.startswith(FOLDER_PREFIX):
        path = name[len(FOLDER_PREFIX):]
        return FOLDER_PREFIX + str(Path(path).expanduser().resolve()) if path else None
    key = name.strip().lower().replace("_", "-")
    return key if key in (*IDX_SETS, CELEBA) else None


def checked(name: str) -> str:
    """`canonical(name)`, or a one-line error listing what can be prepared."""
    dataset = canonical(name)
    if dataset is None:
        raise ConfigError(f"cannot prepare '{name}'; choose from: {', '.join(PREPARABLE)} "
                          "(translation data and stacked-mnist are loaded in memory)")
    return dataset


def splits(dataset: str) -> tuple[str, ...]:
    """The splits a (canonical) dataset has."""
    return ("train",) if dataset.startswith(FOLDER_PREFIX) else idx.SPLITS


def image_shape(dataset: str, image_size: int | None, channels: int | None) -> tuple[int, int]:
    """(channels, size) the loader makes of the dataset for these options (their defaults
    filled in: MNIST's 28 px gray, CelebA's 128 px RGB, a folder's 64 px RGB)."""
    if dataset.startswith(FOLDER_PREFIX):
        size, ch = _check_options(image_size, channels)
        return ch, size
    check_image_options(image_size, channels)
    if dataset == CELEBA:
        if channels not in (None, 3):
            raise ConfigError(f"celeba faces are RGB; leave out --channels or use 3, not "
                              f"{channels}")
        return 3, CELEBA_SIZE if image_size is None else int(image_size)
    return channels or 1, IDX_SIZE if image_size is None else int(image_size)


def _celeba_ref(images: Path, attr_file: Path) -> SourceRef:
    """CelebA's source: the attribute file by content, the image folder by listing."""
    root = images.parent
    return SourceRef(root, files=(attr_file.relative_to(root).as_posix(),), folders=(images.name,))


def locate(dataset: str, split: str, data_dir: str | None) -> SourceRef | None:
    """Where the source of a (canonical) dataset's split lies now, or None when it is not
    there (nothing is downloaded or decoded)."""
    if dataset.startswith(FOLDER_PREFIX):
        root = Path(dataset[len(FOLDER_PREFIX):])
        return SourceRef(root, folders=(".",)) if root.is_dir() else None
    if dataset == CELEBA:
        try:
            return _celeba_ref(*find_celeba(data_dir))
        except DataError:
            return None
    folder = idx.find_split(dataset, split, data_dir)
    return SourceRef(folder, files=idx.FILES[split]) if folder else None


def recorded(dataset: str, split: str, root: str | None) -> SourceRef | None:
    """The source of a split prepared from `root`, as `locate` finds it there now, or None
    when it is not there. Only the parts its dataset has are named, so a header cannot make
    ganforge hash other files (a folder dataset's root is its name's path)."""
    if dataset.startswith(FOLDER_PREFIX):
        path = Path(dataset[len(FOLDER_PREFIX):])
        return SourceRef(path, folders=(".",)) if path.is_absolute() and path.is_dir() else None
    if root is None or not Path(root).is_absolute():
        return None
    if dataset == CELEBA:
        found = (_layout(Path(root), sub) for _, sub in CELEBA_LAYOUTS)
        return next((_celeba_ref(*f) for f in found if f), None)
    if dataset in IDX_SETS and split in idx.FILES:
        return SourceRef(Path(root), files=idx.FILES[split])
    return None


def _chunk_len(shape: Sequence[int]) -> int:
    """Images of `shape` (uint8) in a chunk of about CHUNK_BYTES."""
    return max(1, CHUNK_BYTES // int(np.prod(shape)))


def _idx_source(dataset: str, split: str, data_dir: str | None, ch: int, size: int) -> Source:
    """An IDX split: the native 28 px images are small, so they are read whole and shaped a
    chunk at a time."""
    images, labels = idx.load_idx(dataset, split, data_dir)

    def chunks() -> Iterator[np.ndarray]:
        step = _chunk_len((ch, size, size))
        for i in range(0, len(images), step):
            yield shape_images(images[i : i + step], size, ch).numpy()

    return Source(dataset, split, (ch, size, size), len(images), locate(dataset, split, data_dir),
                  chunks, labels=labels.numpy(), num_classes=idx.NUM_CLASSES)


def _decoded(files: list[Path], decode: Callable[[Path], np.ndarray | None],
             shape: tuple[int, int, int]) -> Iterator[list[np.ndarray | None]]:
    """Decode `files` in a thread pool, one chunk of results (None: unreadable) at a time."""
    step = _chunk_len(shape)
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for i in range(0, len(files), step):
            yield list(pool.map(decode, files[i : i + step]))


def _folder_source(dataset: str, ch: int, size: int) -> Source:
    """Every image under a folder; unreadable files are skipped, as `load_folder` does."""
    root = Path(dataset[len(FOLDER_PREFIX):])
    files = _find_files(root)
    shape = (ch, size, size)

    def chunks() -> Iterator[np.ndarray]:
        for arrays in _decoded(files, partial(decode_image, size=size, channels=ch), shape):
            readable = [a for a in arrays if a is not None]
            if readable:
                yield np.stack(readable)

    return Source(dataset, "train", shape, len(files), locate(dataset, "train", None), chunks)


def _face(path: Path, size: int) -> np.ndarray | None:
    """One face as (3, size, size), or None."""
    decoded = decode_face(path, size)
    return None if decoded is None else decoded[0]


def _celeba_source(split: str, data_dir: str | None, size: int) -> Source:
    """CelebA faces of `split`; an unreadable face is an error (the attribute rows would no
    longer match), as in `load_celeba`."""
    rows = celeba_rows(split, data_dir, 3)
    paths = [rows.images / f for f in rows.files]
    shape = (3, size, size)

    def chunks() -> Iterator[np.ndarray]:
        for arrays in _decoded(paths, partial(_face, size=size), shape):
            if any(a is None for a in arrays):
                raise DataError(f"a CelebA image in {rows.images} could not be read; the "
                                "attribute rows would no longer match the images")
            yield np.stack(arrays)  # type: ignore[arg-type]

    return Source(CELEBA, split, shape, len(paths), locate(CELEBA, split, data_dir), chunks,
                  attrs=rows.attrs.numpy(), attributes=rows.names, split_rule=rows.rule)


def open_source(name: str, split: str, data_dir: str | None, image_size: int | None,
                channels: int | None) -> Source:
    """The split of dataset `name` to prepare at `image_size` and `channels`."""
    dataset = checked(name)
    if split not in splits(dataset):
        raise ConfigError(f"unknown split '{split}' for {name}; valid splits: "
                          f"{', '.join(splits(dataset))}")
    ch, size = image_shape(dataset, image_size, channels)
    if dataset.startswith(FOLDER_PREFIX):
        return _folder_source(dataset, ch, size)
    if dataset == CELEBA:
        return _celeba_source(split, data_dir, size)
    return _idx_source(dataset, split, data_dir, ch, size)
