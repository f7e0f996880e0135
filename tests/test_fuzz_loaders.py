"""Property-based fuzzing of the loaders that read users' files: every input ends in data or a
one-line `GanforgeError`, never another exception.

Loaders: the IDX reader (`data/idx.py`), the image-folder loader (`data/folder.py`), and the
checkpoint and weights loaders with the restore checks (`train/checkpoint.py`,
`train/restore.py`). Examples are few and the deadline off, so the file runs in seconds; the
nastiest inputs found are kept as regular tests at the end. Run with `-s` to see how many
inputs each loader was given.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import random
import struct
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ganforge.api import make_config
from ganforge.data import idx
from ganforge.data.folder import load_folder
from ganforge.errors import GanforgeError
from ganforge.train.checkpoint import load_checkpoint, load_module, load_weights, save_weights
from ganforge.train.restore import restore
from ganforge.train.run import RunDir
from ganforge.train.session import load_data, spec_of
from ganforge.train.trainer import Trainer
from ganforge.variants import build_variant
from untrusted import damaged_files, fuzz_settings, image_bytes, outcome, report  # noqa: F401 (report: fixture)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow on corrupt images
FUZZ = fuzz_settings(200)
FEW = fuzz_settings(80)


@contextlib.contextmanager
def keep_rngs() -> Iterator[None]:
    """A restored checkpoint sets the global generators: put them back afterwards."""
    py, npy = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        yield
    random.setstate(py)
    np.random.set_state(npy)


# ----- IDX ---------------------------------------------------------------------------------------
def _idx(dtype: int, dims: list[int], payload: bytes) -> bytes:
    return bytes([0, 0, dtype, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + payload


VALID_IDX = _idx(0x08, [3, 4, 4], bytes(range(48)))


@FUZZ
@given(st.binary(max_size=512))
def test_fuzz_idx_random_bytes(raw: bytes) -> None:
    outcome("IDX reader", lambda: idx.parse_idx(idx._gunzip(raw, "fuzz"), "fuzz"))


@FUZZ
@given(dtype=st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0x0A, 0xFF]),
       dims=st.lists(st.one_of(st.integers(0, 4), st.integers(0, 2**32 - 1)), max_size=70),
       extra=st.integers(-8, 8), seed=st.integers(0, 2**16))
def test_fuzz_idx_headers(dtype: int, dims: list[int], extra: int, seed: int) -> None:
    """Plausible headers with a payload of about the promised size (or a little off)."""
    size = int(np.prod([d for d in dims if d < 64], dtype=np.int64)) if dims else 1
    payload = random.Random(seed).randbytes(max(0, min(size * 8, 4096) + extra))
    result = outcome("IDX reader", lambda: idx.parse_idx(_idx(dtype, dims, payload), "fuzz"))
    if isinstance(result, np.ndarray):
        assert list(result.shape) == dims


@FUZZ
@given(cut=st.integers(0, len(gzip.compress(VALID_IDX))), flip=st.integers(0, 255),
       at=st.integers(0, 200))
def test_fuzz_idx_gzip_files(cut: int, flip: int, at: int) -> None:
    """A real gzip'd IDX file, truncated and with one byte changed, read from disk."""
    raw = bytearray(gzip.compress(VALID_IDX)[:cut])
    if at < len(raw):
        raw[at] ^= flip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x-idx3-ubyte.gz"
        path.write_bytes(bytes(raw))
        outcome("IDX reader", lambda: idx.read_idx(path))


# ----- image folders -----------------------------------------------------------------------------
IMAGES = [image_bytes(f, m, s) for f, m, s in [
    ("PNG", "RGB", (9, 7)), ("PNG", "LA", (4, 12)), ("JPEG", "RGB", (16, 16)),
    ("GIF", "P", (5, 5)), ("BMP", "RGB", (3, 8)), ("TIFF", "I;16", (6, 6)),
    ("WEBP", "RGBA", (8, 8)), ("PNG", "1", (10, 2))]]
EXTENSIONS = [".png", ".jpg", ".gif", ".bmp", ".tif", ".webp", ".jpeg", ".tiff"]
#: A real image, truncated and/or with bytes changed, or random bytes, under an image name.
IMAGE_FILES = damaged_files(IMAGES, EXTENSIONS, always_cut=True, changes=3, random_size=256)


@FEW
@given(files=st.lists(IMAGE_FILES, min_size=1, max_size=4),
       size=st.integers(1, 12), channels=st.sampled_from([1, 3]))
def test_fuzz_image_folder(files: list[tuple[str, bytes]], size: int, channels: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for i, (ext, data) in enumerate(files):
            folder = Path(tmp) / str(i % 2)
            folder.mkdir(exist_ok=True)
            (folder / f"f{i}{ext}").write_bytes(data)
        result = outcome("image-folder loader", lambda: load_folder(tmp, size, channels))
        if not isinstance(result, GanforgeError):
            assert result.data.shape[1:] == (channels, size, size)
            assert len(result) + result.skipped == len(files)


# ----- checkpoints and weights -------------------------------------------------------------------
OPTS = {"width": 8, "hidden": 16, "latent_dim": 8, "batch_size": 16, "grid_size": 16,
        "monitor_every": 0, "sample_every": 1000, "steps": 2}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A 2-step run's checkpoint and weights bytes, and a fresh trainer to restore into."""
    import ganforge

    root = tmp_path_factory.mktemp("fuzz")
    run = ganforge.train("gan", data="ring8", out=root / "r", quiet=True, **OPTS)
    cfg = make_config("gan", data="ring8", out=str(root / "r"), **OPTS)
    data = load_data(cfg)
    with keep_rngs():
        trainer = Trainer(cfg, build_variant(cfg, spec_of(data)), data, RunDir(root / "t"),
                          torch.device("cpu"), quiet=True)
    return {"ckpt": (root / "r" / "checkpoints" / "last.pt").read_bytes(),
            "weights": run.dir.generator_weights.read_bytes(), "trainer": trainer,
            "state": load_checkpoint(root / "r" / "checkpoints" / "last.pt")}


def _load_and_restore(path: Path, trainer: Trainer) -> object:
    def call() -> object:
        state = load_checkpoint(path)
        with keep_rngs():
            restore(trainer, state, path)
        return state
    return outcome("checkpoint loader", call)


@contextlib.contextmanager
def _file(data: bytes, name: str = "last.pt") -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        yield path


@FUZZ
@given(raw=st.binary(max_size=512), zip_magic=st.booleans())
def test_fuzz_checkpoint_random_bytes(raw: bytes, zip_magic: bool, trained: dict) -> None:
    with _file((b"PK\x03\x04" if zip_magic else b"") + raw) as path:
        _load_and_restore(path, trained["trainer"])


@FEW
@given(data=st.data())
def test_fuzz_checkpoint_truncated_and_flipped(data: st.DataObject, trained: dict) -> None:
    raw = bytearray(trained["ckpt"])
    raw = raw[: data.draw(st.integers(0, len(raw)))]
    for _ in range(data.draw(st.integers(0, 4))):
        if raw:
            raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    with _file(bytes(raw)) as path:
        _load_and_restore(path, trained["trainer"])


LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=8),
    st.builds(lambda shape, dt: torch.zeros(shape, dtype=dt),
              st.lists(st.integers(0, 4), max_size=3),
              st.sampled_from([torch.float32, torch.int64, torch.uint8, torch.bool,
                               torch.float64])))
STRUCTURES = st.recursive(LEAVES, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.tuples(kids, kids),
    st.dictionaries(st.one_of(st.text(max_size=8), st.integers(0, 3)), kids, max_size=4)),
    max_leaves=12)


def _paths(tree: object, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside nested dicts and lists."""
    out = [prefix]
    if isinstance(tree, dict):
        for k, v in tree.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(state: dict, path: tuple, how: str, value: object) -> object:
    """`state` with the value at `path` replaced, deleted, or given a new sibling."""
    if not path:
        return value
    parent = state
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if how == "delete" and isinstance(parent, dict):
        del parent[key]
    elif how == "add" and isinstance(parent, dict):
        parent[f"extra_{key}"] = value
    else:
        parent[key] = value
    return state


@FUZZ
@given(data=st.data())
def test_fuzz_checkpoint_structures(data: st.DataObject, trained: dict) -> None:
    """A real checkpoint with one value anywhere in it replaced, deleted or added to."""
    state = _clone(trained["state"])
    path = data.draw(st.sampled_from(_paths(state)))
    how = data.draw(st.sampled_from(["replace", "delete", "add"]))
    mutated = _mutate(state, path, how, data.draw(STRUCTURES))
    with _file(b"") as target:
        torch.save(mutated, target)
        _load_and_restore(target, trained["trainer"])


def _clone(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _clone(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_clone(v) for v in tree]
    return tree.clone() if isinstance(tree, torch.Tensor) else tree


def _weights_loader(path: Path, trainer: Trainer) -> Callable[[], object]:
    def call() -> object:
        weights = load_weights(path)
        load_module(trainer.variant.generator, weights, path, "the generator")
        return weights
    return call


@FUZZ
@given(header=st.one_of(
    st.dictionaries(st.text(max_size=6), st.fixed_dictionaries({
        "dtype": st.sampled_from(["F32", "F64", "I64", "U8", "BOOL", "F16", "XX", ""]),
        "shape": st.lists(st.integers(-1, 2**40), max_size=3),
        "data_offsets": st.lists(st.integers(-1, 2**40), max_size=3)}), max_size=3),
    STRUCTURES), body=st.binary(max_size=64), size_delta=st.integers(-4, 4))
def test_fuzz_weights_headers(header: object, body: bytes, size_delta: int,
                              trained: dict) -> None:
    """safetensors files with random JSON headers (dtypes, shapes, offsets) and bodies."""
    text = json.dumps(header, default=str).encode()
    raw = struct.pack("<Q", max(0, len(text) + size_delta)) + text + body
    with _file(raw, "generator.safetensors") as path:
        outcome("weights loader", _weights_loader(path, trained["trainer"]))


@FEW
@given(data=st.data())
def test_fuzz_weights_truncated_and_flipped(data: st.DataObject, trained: dict) -> None:
    raw = bytearray(trained["weights"])
    raw = raw[: data.draw(st.integers(0, len(raw)))]
    for _ in range(data.draw(st.integers(0, 4))):
        if raw:
            raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    with _file(bytes(raw), "generator.safetensors") as path:
        outcome("weights loader", _weights_loader(path, trained["trainer"]))


# ----- the seed corpus: the nastiest inputs, as regular tests ------------------------------------
SENTINEL = "deep-list-goes-here"


def _deep(state: dict, *keys: str | int, depth: int = 100_000) -> Callable[[Path], None]:
    """Save `state` with the value at `keys` a list nested `depth` deep: the pickle is edited,
    because pickling such a list would overflow the stack (loading it does not)."""
    def write(path: Path) -> None:
        import zipfile

        tree = _clone(state)
        parent = tree
        for key in keys[:-1]:
            parent = parent[key]
        parent[keys[-1]] = SENTINEL
        torch.save(tree, path)
        with zipfile.ZipFile(path) as z:
            entries = {name: z.read(name) for name in z.namelist()}
        leaf = b"X" + struct.pack("<I", len(SENTINEL)) + SENTINEL.encode()
        deep = b"]" * depth + b"a" * (depth - 1)  # EMPTY_LIST x depth, APPEND x (depth - 1)
        with zipfile.ZipFile(path, "w") as z:
            for name, data in entries.items():
                z.writestr(name, data.replace(leaf, deep) if name.endswith("data.pkl") else data)
    return write


IDX_CORPUS = {
    "65 dimensions (numpy's limit is 64)": _idx(0x08, [1] * 65, b"x"),
    "dimensions whose product overflows 64 bits": _idx(0x0E, [2**32 - 1] * 3, b""),
    "header cut inside the dimensions": _idx(0x08, [3, 4, 4], b"")[:9],
    "gzip cut before the end-of-stream marker": gzip.compress(VALID_IDX)[:-12],
    "gzip header only": gzip.compress(b"")[:10],
    "gzip of garbage": gzip.compress(b"\x00\x00\x99\x03" + b"\xff" * 10),
    "unknown dtype 0x0a": _idx(0x0A, [2], b"ab"),
    "an empty array whose other sizes overflow numpy": _idx(0x08, [0, 4681, 25366, 54653, 1421298],
                                                            b""),
}


@pytest.mark.parametrize("case", IDX_CORPUS)
def test_corpus_idx(case: str) -> None:
    with pytest.raises(GanforgeError) as info:
        idx.parse_idx(idx._gunzip(IDX_CORPUS[case], case), case)
    assert "\n" not in str(info.value)


def test_corpus_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"\0" * (1 << 20))  # 1 MiB of zeros in 1 KiB
    with pytest.raises(GanforgeError, match="inflates to more than"):
        idx._gunzip(bomb, "bomb", limit=1 << 16)


def _edited(state: dict, keys: tuple, value: object) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        torch.save(_mutate(_clone(state), keys, "replace", value), path)
    return write


def checkpoint_corpus(state: dict) -> dict[str, Callable[[Path], object]]:
    """Nasty checkpoints, some built from a real `state`."""
    return {
        "zip magic alone": lambda p: p.write_bytes(b"PK\x03\x04"),
        "a zip that is not a torch archive": lambda p: _plain_zip(p),
        "a format version nested 100000 lists deep": _deep(state, "format"),
        "a step counter nested 100000 lists deep": _deep(state, "counters", "step"),
        "a learning rate nested 100000 lists deep": _deep(state, "optimizers", "D", "param_groups",
                                                          0, "lr"),
        "format as a string": lambda p: torch.save({"format": "2"}, p),
        "format True": lambda p: torch.save({"format": True}, p),
        "format a 2-D tensor (its repr spans lines)": lambda p: torch.save(
            {"format": torch.zeros(3, 1)}, p),
        "counters with a negative step": lambda p: torch.save(
            {"format": 2, "counters": {"step": -1}}, p),
        "an epoch beyond a generator seed": _edited(state, ("counters", "epoch"), 2**70),
        "a batch index past the epoch's end": _edited(state, ("counters", "batch_index"), 10**6),
    }


def _plain_zip(path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")


@pytest.mark.parametrize("case", checkpoint_corpus({}))
def test_corpus_checkpoints(case: str, trained: dict, tmp_path: Path) -> None:
    path = tmp_path / "last.pt"
    checkpoint_corpus(trained["state"])[case](path)
    with pytest.raises(GanforgeError) as info, keep_rngs():
        restore(trained["trainer"], load_checkpoint(path), path)
    assert "\n" not in str(info.value)


def test_corpus_weights_header_longer_than_the_file(tmp_path: Path) -> None:
    path = tmp_path / "generator.safetensors"
    path.write_bytes(struct.pack("<Q", 2**62) + b"{}")
    with pytest.raises(GanforgeError, match="not a readable safetensors"):
        load_weights(path)


def test_corpus_a_real_checkpoint_and_weights_still_load(trained: dict, tmp_path: Path) -> None:
    """The fuzzers' starting points are accepted, so 'data' outcomes are reachable."""
    path = tmp_path / "last.pt"
    path.write_bytes(trained["ckpt"])
    assert not isinstance(_load_and_restore(path, trained["trainer"]), GanforgeError)
    save_weights(tmp_path / "g.safetensors", trained["trainer"].variant.generator)
    assert _weights_loader(tmp_path / "g.safetensors", trained["trainer"])()
