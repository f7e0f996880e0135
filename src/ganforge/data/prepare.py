"""`ganforge prepare`: write a dataset once as prepared data (see `prepared.py` for the layout).

Images are decoded, shaped and written a chunk at a time, so memory stays flat while preparing a
dataset larger than memory. Each split is written into a temporary folder beside its place and
renamed into it when complete (header last, everything fsynced): an interrupted or failed
`prepare` leaves the previous prepared split, if any, as it was.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ganforge.data.header import HEADER, Header
from ganforge.data.prepared import ATTRS, IMAGES, LABELS, default_root
from ganforge.data.sources import Source, checked, open_source, splits
from ganforge.errors import DataError, WriteError


def _umask() -> int:
    """The process's file-creation mask."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_space(folder: Path, source: Source) -> None:
    """A one-line error before writing when the disk cannot hold the images."""
    need = source.count * int(np.prod(source.shape))
    free = shutil.disk_usage(folder).free
    if need > free:
        raise WriteError(f"{folder} has {free / 1e9:.2f} GB free but the prepared {source.dataset}"
                         f" {source.split} split needs {need / 1e9:.2f} GB; free some space or "
                         "choose another --out")


def _write_images(source: Source, path: Path, progress: bool) -> int:
    """Write every chunk of `source` to `path`; return the number of images written."""
    n = 0
    desc = f"{source.dataset} {source.split}"
    with open(path, "wb") as f, tqdm(total=source.count, unit="img", desc=desc,
                                     disable=None if progress else True) as bar:
        for chunk in source.chunks():
            assert chunk.dtype == np.uint8 and chunk.shape[1:] == source.shape, chunk.shape
            f.write(np.ascontiguousarray(chunk).data)
            n += len(chunk)
            bar.update(len(chunk))
        f.flush()
        os.fsync(f.fileno())
    return n


def _write_array(path: Path, array: np.ndarray) -> None:
    """Write an array's raw bytes and fsync them."""
    with open(path, "wb") as f:
        f.write(np.ascontiguousarray(array).data)
        f.flush()
        os.fsync(f.fileno())


def _header(source: Source, count: int, digests: dict[str, str] | None) -> Header:
    """The header of a split of `count` images written from `source`."""
    ref = source.ref
    return Header(source.dataset, source.split, (count, *source.shape), source.num_classes,
                  source.attributes, source.split_rule, source.count - count,
                  None if ref is None else str(ref.root.resolve()), digests)


def _fill(source: Source, tmp: Path, progress: bool) -> int:
    """Write the split's files into the folder `tmp` (header last); return its image count."""
    digests = None if source.ref is None else source.ref.digests()  # the source as read
    count = _write_images(source, tmp / IMAGES, progress)
    if count == 0:
        raise DataError(f"none of the {source.count} images of {source.dataset} could be read")
    if count < source.count:
        print(f"warning: skipped {source.count - count} unreadable image file(s) of "
              f"{source.dataset}", file=sys.stderr)
    if source.labels is not None:
        _write_array(tmp / LABELS, source.labels.astype("<i8"))
    if source.attrs is not None:
        _write_array(tmp / ATTRS, source.attrs.astype(np.uint8))
    _write_array(tmp / HEADER, np.frombuffer(
        _header(source, count, digests).to_json().encode(), dtype=np.uint8))
    return count


def _commit(tmp: Path, target: Path) -> None:
    """Rename the complete folder `tmp` to `target`, replacing an older one."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(tmp, target)
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_split(source: Source, target: Path, progress: bool = True) -> Path:
    """Write `source` as the prepared split folder `target`, atomically; return `target`."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _check_space(target.parent, source)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        tmp.chmod(0o777 & ~_umask())  # mkdtemp's folder is private; a cache may be shared
    except WriteError:
        raise
    except OSError as exc:
        raise WriteError(f"cannot write prepared data in {target.parent} ({exc.strerror}); "
                         "choose another --out") from None
    try:
        _fill(source, tmp, progress)
        _commit(tmp, target)
    except WriteError:
        raise
    except OSError as exc:
        raise WriteError(f"cannot write prepared data {target} ({exc.strerror}); free some space "
                         "or choose another --out") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def prepare(name: str, image_size: int, *, split: str | None = None, data_dir: str | None = None,
            channels: int | None = None, out: str | os.PathLike[str] | None = None,
            progress: bool = True) -> list[Path]:
    """Prepare dataset `name` at `image_size` (every split it has, or `split`) into `out`
    (default: its place in the cache, where `--data name` finds it); return the split folders."""
    dataset = checked(name)
    written = []
    for s in (split,) if split else splits(dataset):
        source = open_source(name, s, data_dir, image_size, channels)
        root = (Path(out).expanduser() if out is not None
                else default_root(source.dataset, source.shape[0], source.shape[1]))
        written.append(write_split(source, root / s, progress))
    return written
