"""MNIST-style IDX gzip datasets: file resolution, checksums, download and parsing.

MNIST ships inside the package (`ganforge/assets/mnist`). Other IDX datasets are looked up, in
order, in the `data_dir` argument, in `$GANFORGE_DATA` and in the cache folder
(`$XDG_CACHE_HOME/ganforge` or `~/.cache/ganforge`); inside each root the layouts
`<root>/fashion_mnist/raw/<file>`, `<root>/fashion-mnist/raw/<file>` and
`<root>/fashion-mnist/<file>` are accepted (likewise `mnist`, and torchvision's `MNIST/raw`,
`FashionMNIST/raw`). Missing files are downloaded into the cache and verified by SHA256.
"""

from __future__ import annotations

import hashlib
import http.client
import math
import os
import struct
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ganforge.download import download_verified
from ganforge.errors import DataError

SPLITS = ("train", "test")
NUM_CLASSES = 10
DOWNLOAD_TIMEOUT_S = 30.0

FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

_ORDER = (*FILES["train"], *FILES["test"])
SHA256: dict[str, dict[str, str]] = {
    "mnist": dict(zip(_ORDER, (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ))),
    "fashion-mnist": dict(zip(_ORDER, (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    ))),
}  # fmt: skip

# Folder names accepted inside a data root; the first one is used for downloads into the cache.
FOLDERS: dict[str, tuple[str, ...]] = {
    "mnist": ("mnist", "MNIST"),
    "fashion-mnist": ("fashion_mnist", "fashion-mnist", "FashionMNIST"),
}

# Download sources, tried in order. Tests and mirrors may replace these lists.
MIRRORS: dict[str, list[str]] = {
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/"],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
}

CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": tuple(str(d) for d in range(10)),
    "fashion-mnist": (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
}  # fmt: skip

SHIPPED: dict[str, Path] = {"mnist": Path(__file__).resolve().parent.parent / "assets" / "mnist"}

PathArg = str | os.PathLike[str]
_IDX_DTYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
MAX_DIMS = 32  # numpy 1.x's limit (2.x: 64); the header's byte allows 255
MAX_IDX_BYTES = 1 << 31  # a gzip file inflating beyond this is not a dataset ganforge reads
_NETWORK_ERRORS = (OSError, http.client.HTTPException, ValueError)


def cache_dir() -> Path:
    """The download cache: `$XDG_CACHE_HOME/ganforge`, else `~/.cache/ganforge`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "ganforge"


def search_roots(data_dir: PathArg | None = None) -> list[Path]:
    """Data roots searched in order: `data_dir`, `$GANFORGE_DATA`, the cache folder."""
    roots = [Path(p).expanduser() for p in (data_dir, os.environ.get("GANFORGE_DATA")) if p]
    return [*roots, cache_dir()]


def _layouts(name: str, root: Path) -> list[Path]:
    """The accepted folders for dataset `name` inside one data root."""
    return [root / folder / sub for folder in FOLDERS[name] for sub in ("raw", "")]


def candidate_dirs(name: str, data_dir: PathArg | None = None) -> list[Path]:
    """Every folder that may hold the files of IDX dataset `name`, in search order.

    An explicit `data_dir` comes first, then the copy shipped in the package (MNIST), then
    `$GANFORGE_DATA` and the cache.
    """
    dirs = _layouts(name, Path(data_dir).expanduser()) if data_dir else []
    if name in SHIPPED:
        dirs.append(SHIPPED[name])
    for root in search_roots(None):
        dirs += _layouts(name, root)
    return dirs


def sha256_bytes(raw: bytes) -> str:
    """Hex SHA256 of a byte string."""
    return hashlib.sha256(raw).hexdigest()


def sha256_file(path: PathArg) -> str:
    """Hex SHA256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _one_line(exc: BaseException) -> str:
    """An exception as `Type: message` on a single line."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _gunzip(raw: bytes, source: str, limit: int = MAX_IDX_BYTES) -> bytes:
    """Decompress gzip bytes (plain IDX bytes pass through unchanged), at most `limit` bytes."""
    if raw[:2] != b"\x1f\x8b":
        return raw
    inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # one gzip member, as IDX files are
    try:
        out = inflate.decompress(raw, limit + 1)
        if not inflate.eof and len(out) <= limit:
            raise EOFError("compressed file ended before the end-of-stream marker was reached")
    except (EOFError, zlib.error) as exc:
        raise DataError(
            f"{source} is a truncated or corrupt gzip file ({_one_line(exc)}); "
            "delete it and download it again"
        ) from None
    if len(out) > limit:
        raise DataError(f"{source} inflates to more than {limit} bytes; it is not an IDX dataset")
    return out


def parse_idx(raw: bytes, source: str = "IDX data") -> np.ndarray:
    """Parse uncompressed IDX bytes into a native-endian numpy array."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(f"{source} is not an IDX file (bad magic number {raw[:4].hex() or 'none'})")
    ndim, header = raw[3], 4 + 4 * raw[3]
    if ndim > MAX_DIMS:
        raise DataError(f"{source} claims {ndim} dimensions; at most {MAX_DIMS} are supported")
    if len(raw) < header:
        raise DataError(f"{source} is truncated: the IDX header is incomplete")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    count = math.prod(dims)
    if math.prod(d for d in dims if d) * dtype.itemsize >= 1 << 62:  # numpy refuses, even empty
        raise DataError(f"{source} claims an impossible shape {tuple(dims)}; it is corrupt")
    if len(raw) - header != count * dtype.itemsize:
        raise DataError(
            f"{source} is truncated or corrupt: its header promises shape {tuple(dims)} "
            f"({count * dtype.itemsize} bytes) but it holds {len(raw) - header} bytes"
        )
    arr = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))


def read_idx(path: PathArg, sha256: str | None = None) -> np.ndarray:
    """Read an IDX file (gzip or plain), checking its SHA256 first when one is given."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {_one_line(exc)}") from None
    if sha256 is not None and (got := sha256_bytes(raw)) != sha256:
        raise DataError(
            f"{path} has SHA256 {got[:16]}..., expected {sha256[:16]}...: it is corrupt or not "
            "the official file; delete it (it will be downloaded again) or replace it"
        )
    return parse_idx(_gunzip(raw, str(path)), str(path))


def download_file(url: str, dest: Path, sha256: str) -> Path:
    """Download `url` to `dest` atomically, verifying its SHA256; a mismatch raises DataError."""
    return download_verified(url, dest, sha256, lambda got: DataError(
        f"download of {url} has SHA256 {got[:16]}..., expected {sha256[:16]}...; "
        "the file was discarded (bad mirror or interrupted transfer)"), DOWNLOAD_TIMEOUT_S)


def _check(name: str, split: str) -> None:
    """Reject unknown IDX dataset names and splits with a one-line error."""
    if name not in FOLDERS:
        raise DataError(f"unknown IDX dataset '{name}'; choose from: {', '.join(FOLDERS)}")
    if split not in SPLITS:
        raise DataError(f"unknown split '{split}' for {name}; valid splits: {', '.join(SPLITS)}")


def find_split(name: str, split: str, data_dir: PathArg | None = None) -> Path | None:
    """The first folder holding both files of `split`, or None."""
    _check(name, split)
    for folder in candidate_dirs(name, data_dir):
        if all((folder / f).is_file() for f in FILES[split]):
            return folder
    return None


def _missing_error(name: str, split: str, data_dir: str | None, reason: str) -> DataError:
    """The one-line error for files that are neither on disk nor downloadable."""
    files = " and ".join(FILES[split])
    alts = ", ".join(f"DIR/{f}/raw/, DIR/{f}/" for f in FOLDERS[name][1:2])
    searched = ", ".join(str(r) for r in search_roots(data_dir))
    return DataError(
        f"{name} {split} files not found and could not be downloaded ({reason}); put {files} "
        f"in DIR/{FOLDERS[name][0]}/raw/ (or {alts}) and pass --data-dir DIR or set "
        f"GANFORGE_DATA=DIR (searched: {searched})"
    )


def download_split(name: str, split: str, mirrors: Sequence[str] | None = None) -> Path:
    """Download the missing files of `split` into the cache; return their folder."""
    dest = cache_dir() / FOLDERS[name][0] / "raw"
    for filename in FILES[split]:
        if (dest / filename).is_file():
            continue
        errors = []
        for base in mirrors if mirrors is not None else MIRRORS[name]:
            url = base.rstrip("/") + "/" + filename
            print(f"downloading {url} -> {dest}", file=sys.stderr)
            try:
                download_file(url, dest / filename, SHA256[name][filename])
                break
            except _NETWORK_ERRORS as exc:
                errors.append(f"{url}: {_one_line(exc)}")
        else:
            raise OSError("; ".join(errors) or "no download mirror configured")
    return dest


def resolve_split(
    name: str,
    split: str,
    data_dir: PathArg | None = None,
    *,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
) -> tuple[Path, Path]:
    """Paths of the (images, labels) files of `split`, downloading them if needed."""
    folder = find_split(name, split, data_dir)
    if folder is None:
        where = str(data_dir) if data_dir else None
        if not download:
            raise _missing_error(name, split, where, "downloads are disabled")
        try:
            folder = download_split(name, split, mirrors)
        except _NETWORK_ERRORS as exc:
            raise _missing_error(name, split, where, _one_line(exc)) from None
    images, labels = FILES[split]
    return folder / images, folder / labels


def load_idx(
    name: str,
    split: str = "train",
    data_dir: PathArg | None = None,
    *,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
) -> tuple[Tensor, Tensor]:
    """Load an IDX dataset split as uint8 images (N, 1, H, W) and int64 labels (N,)."""
    img_path, lbl_path = resolve_split(name, split, data_dir, download=download, mirrors=mirrors)
    images = read_idx(img_path, SHA256[name][img_path.name])
    labels = read_idx(lbl_path, SHA256[name][lbl_path.name])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(
            f"{img_path.parent}: images of shape {images.shape} do not match labels of "
            f"shape {labels.shape}"
        )
    x = torch.from_numpy(images.astype(np.uint8, copy=False)).unsqueeze(1)
    return x, torch.from_numpy(labels.astype(np.int64))
