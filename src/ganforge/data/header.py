"""The JSON header of a prepared split (`header.json`): what the raw files beside it hold.

Read with every field held to its type and range: a header that is not JSON, not ganforge's,
from a newer ganforge, or inconsistent (a shape that is not (N, C, S, S) of the image size and
channels, labels and attributes at once) is a one-line DataError that names the file and ends
with the fix the caller gives (`run ganforge prepare … again`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganforge.errors import DataError

HEADER = "header.json"
FORMAT = "ganforge-prepared"
VERSION = 1  # the header format written and read now
MAX_HEADER_BYTES = 1 << 20
MAX_ELEMENTS = 1 << 48  # more image bytes than this is not a header ganforge wrote
SPLITS = ("train", "test")


@dataclass(frozen=True)
class Header:
    """One prepared split: `shape` (N, C, S, S) of uint8 images, classes or attribute names,
    the split rule, files skipped while preparing, and the source's root and digests."""

    dataset: str
    split: str
    shape: tuple[int, int, int, int]
    num_classes: int | None = None
    attributes: tuple[str, ...] = ()
    split_rule: str = ""
    skipped: int = 0
    source_root: str | None = None
    source: dict[str, str] | None = None  # `file:NAME` / `folder:NAME` -> SHA256

    @property
    def count(self) -> int:
        """Number of images."""
        return self.shape[0]

    @property
    def channels(self) -> int:
        """Channels of an image."""
        return self.shape[1]

    @property
    def image_size(self) -> int:
        """Side of an image in pixels."""
        return self.shape[2]

    def to_json(self) -> str:
        """The header as written to header.json."""
        from ganforge._version import __version__

        source = None if self.source is None else {"root": self.source_root,
                                                   "digests": self.source}
        return json.dumps({
            "format": FORMAT, "version": VERSION, "ganforge_version": __version__,
            "dataset": self.dataset, "split": self.split, "image_size": self.image_size,
            "channels": self.channels, "shape": list(self.shape), "dtype": "uint8",
            "num_classes": self.num_classes, "attributes": list(self.attributes),
            "split_rule": self.split_rule, "skipped": self.skipped, "source": source,
        }, indent=1)


class _Bad(Exception):
    """A field of the header that is missing or malformed (its name is the message)."""


def _field(d: dict[str, Any], key: str, kind: type, optional: bool = False) -> Any:
    """`d[key]` when it is a `kind` (bool is not an int), else _Bad(key)."""
    value = d.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Bad(key)
    return value


def _source(d: dict[str, Any]) -> tuple[str | None, dict[str, str] | None]:
    """(root, digests) of the `source` record, or (None, None) for generated data."""
    src = _field(d, "source", dict, optional=True)
    if src is None:
        return None, None
    root = _field(src, "root", str)
    digests = _field(src, "digests", dict)
    if not all(isinstance(k, str) and k.startswith(("file:", "folder:")) and isinstance(v, str)
               for k, v in digests.items()):
        raise _Bad("source")
    return root, digests


def _shape(d: dict[str, Any]) -> tuple[int, int, int, int]:
    """The shape, consistent with the image size, channels and dtype."""
    shape = _field(d, "shape", list)
    if (len(shape) != 4 or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                                   for v in shape)):
        raise _Bad("shape")
    n, c, h, w = shape
    if c not in (1, 3) or h != w or n * c * h * w > MAX_ELEMENTS:
        raise _Bad("shape")
    if _field(d, "image_size", int) != h or _field(d, "channels", int) != c:
        raise _Bad("image_size")
    if _field(d, "dtype", str) != "uint8":
        raise _Bad("dtype")
    return n, c, h, w


def parse_header(d: dict[str, Any]) -> Header:
    """A Header from the JSON object of a current-version header (`_Bad` names a bad field)."""
    num_classes = _field(d, "num_classes", int, optional=True)
    attributes = _field(d, "attributes", list)
    if num_classes is not None and (num_classes < 1 or attributes):
        raise _Bad("num_classes")
    if not all(isinstance(a, str) for a in attributes):
        raise _Bad("attributes")
    split, skipped = _field(d, "split", str), _field(d, "skipped", int)
    if split not in SPLITS or skipped < 0:
        raise _Bad("split" if split not in SPLITS else "skipped")
    root, digests = _source(d)
    return Header(_field(d, "dataset", str), split, _shape(d), num_classes, tuple(attributes),
                  _field(d, "split_rule", str), skipped, root, digests)


def _load_json(path: Path, fix: str) -> dict[str, Any]:
    """The JSON object in `path` (at most MAX_HEADER_BYTES)."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_HEADER_BYTES + 1)
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc.strerror}); {fix}") from None
    if len(raw) > MAX_HEADER_BYTES:
        raise DataError(f"{path} is larger than a prepared-data header can be; {fix}")
    try:
        d = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise DataError(f"{path} is not JSON (damaged or not from ganforge); {fix}") from None
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise DataError(f"{path} is not a ganforge prepared-data header; {fix}")
    return d


def read_header(path: Path, fix: str) -> Header:
    """Read and check a header.json; anything wrong is a one-line DataError ending in `fix`."""
    d = _load_json(path, fix)
    version = d.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DataError(f"{path} has no valid format version; {fix}")
    if version > VERSION:
        raise DataError(f"{path} was written by a newer ganforge (prepared-data format "
                        f"{version}; this one reads {VERSION}); upgrade ganforge, or {fix}")
    try:
        return parse_header(d)
    except _Bad as exc:
        raise DataError(f"{path} has a missing or malformed '{exc}'; {fix}") from None
