"""Property-based fuzzing of prepared data (`data/header.py`, `data/prepared.py`): whatever a
header.json or the raw files beside it hold, opening ends in data whose every row can be read, or
in a one-line `GanforgeError`, never another exception (or a crash reading past a file's end).

Run with `-s` to see how many inputs each reader was given.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ganforge.data import load_dataset
from ganforge.data.prepare import write_split
from ganforge.data.sources import Source
from untrusted import fuzz_settings, outcome, report  # noqa: F401 (report: fixture)

FEW = fuzz_settings(80)
N, C, S, A = 12, 1, 4, 3
FILES = ("images.u8", "labels.i64", "attrs.u8")


def _source(labels: bool) -> Source:
    """Seeded random images, with class labels or with attributes (generated: no source)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (N, C, S, S), dtype=np.uint8)
    chunks = lambda: iter((images[:5], images[5:]))  # noqa: E731
    if labels:
        return Source("fuzz", "train", (C, S, S), N, None, chunks,
                      labels=rng.integers(0, 10, N), num_classes=10)
    return Source("fuzz", "train", (C, S, S), N, None, chunks,
                  attrs=rng.integers(0, 2, (N, A), dtype=np.uint8), attributes=("a", "b", "c"))


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A prepared split with labels and one with attributes."""
    base = tmp_path_factory.mktemp("fuzz")
    return {kind: write_split(_source(kind == "labels"), base / kind / "train", progress=False)
            for kind in ("labels", "attrs")}


@contextlib.contextmanager
def scratch(folder: Path) -> Iterator[Path]:
    """A scratch copy of a prepared root (ROOT/train) to damage."""
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(folder, Path(tmp) / "train")
        yield Path(tmp) / "train"


def _open(folder: Path) -> object:
    """Open the damaged copy; when it opens, every row and label must be readable."""
    data = load_dataset(f"prepared:{folder.parent}")
    images = getattr(data, "data", None)
    images = getattr(data, "images", None) if images is None else images
    assert images is not None and int(images[-1].sum()) >= 0 and int(images[0].sum()) >= 0
    return data


JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats()
                    | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=5)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
KEYS = ("format", "version", "dataset", "split", "image_size", "channels", "shape", "dtype",
        "num_classes", "attributes", "split_rule", "skipped", "source", "extra")
DELETE = object()


@FEW
@given(kind=st.sampled_from(["labels", "attrs"]),
       edits=st.lists(st.tuples(st.sampled_from(KEYS), st.just(DELETE) | JSON
                                | st.sampled_from([[N, C, S, S], [N + 1, C, S, S], [N, 3, S, S],
                                                   S, 3, 10, [], ["a"], 0, -1])), max_size=4))
def test_fuzz_header_fields(prepared: dict[str, Path], kind: str,
                            edits: list[tuple[str, Any]]) -> None:
    """Valid headers with fields replaced (by plausible or random JSON) or removed."""
    with scratch(prepared[kind]) as folder:
        header = json.loads((folder / "header.json").read_text())
        for key, value in edits:
            header.pop(key, None) if value is DELETE else header.__setitem__(key, value)
        (folder / "header.json").write_text(json.dumps(header))
        outcome("prepared header fields", lambda: _open(folder))


@FEW
@given(kind=st.sampled_from(["labels", "attrs"]), raw=st.binary(max_size=256),
       cut=st.integers(0, 600), use_cut=st.booleans())
def test_fuzz_header_bytes(prepared: dict[str, Path], kind: str, raw: bytes, cut: int,
                           use_cut: bool) -> None:
    """Random bytes, or a valid header cut short, as header.json."""
    with scratch(prepared[kind]) as folder:
        body = (folder / "header.json").read_bytes()[:cut] if use_cut else raw
        (folder / "header.json").write_bytes(body)
        outcome("prepared header bytes", lambda: _open(folder))


@FEW
@given(kind=st.sampled_from(["labels", "attrs"]), name=st.sampled_from(FILES),
       size=st.integers(0, 400), payload=st.binary(min_size=0, max_size=400))
def test_fuzz_data_files(prepared: dict[str, Path], kind: str, name: str, size: int,
                         payload: bytes) -> None:
    """A data file cut or grown to any size, or overwritten with random bytes of its size."""
    with scratch(prepared[kind]) as folder:
        path = folder / name
        if path.exists() and len(payload) >= path.stat().st_size and size % 2:
            path.write_bytes(payload[: path.stat().st_size])  # same size, random content
        else:
            path.write_bytes((path.read_bytes() if path.exists() else b"")[:size].ljust(size,
                                                                                      b"\x01"))
        outcome("prepared data files", lambda: _open(folder))


def test_an_undamaged_copy_opens(prepared: dict[str, Path]) -> None:
    """The fuzzed inputs start from prepared data that opens, with its labels or attributes."""
    labels = load_dataset(f"prepared:{prepared['labels'].parent}")
    attrs = load_dataset(f"prepared:{prepared['attrs'].parent}")
    assert len(labels) == len(attrs) == N and labels.spec().num_classes == 10
    assert attrs.spec().attributes == ("a", "b", "c")
