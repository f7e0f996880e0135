"""`ganforge prepare` and prepared data: the bytes equal the in-memory data, batches and whole runs
are bitwise those of the in-memory path, `--data NAME` picks the cache up, the images are mapped
from the file (not copied), writing is atomic, and every mismatch is a one-line error naming
`ganforge prepare … again`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ganforge
from ganforge.cli.main import main
from ganforge.data import BatchLoader, load_dataset
from ganforge.data.prepare import prepare, write_split
from ganforge.data.sources import open_source
from ganforge.errors import DataError
from ganforge.train.checkpoint import load_checkpoint
from test_stargan_data import make_celeba, needs_subset


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty default cache for the test."""
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def in_memory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point the default cache at an empty folder: `load_dataset` loads in memory again."""
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path / "no-cache"))


def make_images(root: Path, n: int, seed: int = 0) -> Path:
    """`n` seeded random RGB PNGs of assorted sizes, plus one unreadable file."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    for i in range(n):
        h, w = rng.integers(12, 30, size=2)
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(root / f"{i:03}.png")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    return root


def mapped_from(tensor: torch.Tensor, path: Path) -> bool:
    """Whether `tensor`'s memory lies in a mapping of the file `path` (Linux /proc)."""
    ptr = tensor.data_ptr()
    for line in Path("/proc/self/maps").read_text().splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and parts[5] == str(path.resolve()):
            lo, hi = (int(v, 16) for v in parts[0].split("-"))
            if lo <= ptr < hi:
                return True
    return False


def batches(data: object, epochs: int = 2) -> Iterator[dict[str, torch.Tensor]]:
    """Every field of every batch the loader makes of `data` in `epochs` epochs."""
    loader = BatchLoader(data, 4, seed=3)  # type: ignore[arg-type]
    for e in range(epochs):
        for b in loader.epoch(e):
            yield {k: v for k, v in vars(b).items() if v is not None}


def assert_same_batches(a: object, b: object) -> None:
    """The loader gives bitwise the same batches (order, augmentation, labels) of both."""
    pairs = list(zip(batches(a), batches(b), strict=True))
    assert pairs
    for x, y in pairs:
        assert x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)


needs_proc = pytest.mark.skipif(not Path("/proc/self/maps").is_file(), reason="no /proc")


@needs_proc
def test_mnist_prepared_equals_in_memory_and_is_mapped(cache: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    [folder] = prepare("mnist", 16, split="test", channels=3, progress=False)
    assert folder == cache / "mnist-16px-3ch" / "test"
    prepared = load_dataset("mnist", split="test", image_size=16, channels=3)
    assert mapped_from(prepared.data, folder / "images.u8")
    in_memory(monkeypatch, tmp_path)
    memory = load_dataset("mnist", split="test", image_size=16, channels=3)
    assert not mapped_from(memory.data, folder / "images.u8")
    assert memory.data.shape == prepared.data.shape == (10000, 3, 16, 16)
    assert torch.equal(memory.data, prepared.data) and torch.equal(memory.labels, prepared.labels)
    assert prepared.spec() == memory.spec()


def test_folder_batches_equal_and_pickup_follows_the_source(cache: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture) -> None:
    root = make_images(tmp_path / "imgs", 13)
    [folder] = prepare(f"folder:{root}", 16, progress=False)
    assert "skipped 1" in capsys.readouterr().err
    header = json.loads((folder / "header.json").read_text())
    assert header["shape"] == [13, 3, 16, 16] and header["skipped"] == 1
    prepared = load_dataset(f"folder:{root}", image_size=16)
    assert mapped_from(prepared.data, folder / "images.u8") and prepared.skipped == 1
    assert prepared.reader is not None  # batches are read row by row, not through the map
    assert not mapped_from(load_dataset(f"folder:{root}", image_size=8).data,
                           folder / "images.u8")  # another size: not prepared, in memory
    in_memory(monkeypatch, tmp_path)
    assert_same_batches(prepared, load_dataset(f"folder:{root}", image_size=16))
    monkeypatch.setenv("GANFORGE_CACHE", str(cache))
    Image.new("RGB", (9, 9)).save(root / "new.png")
    with pytest.raises(DataError, match=r"does not match its source .*\(its image files "
                       r"changed\); run "
                       rf"`ganforge prepare folder:{root.resolve()} --image-size 16 --split "
                       "train` again") as err:
        load_dataset(f"folder:{root}", image_size=16)
    assert "\n" not in str(err.value)


def test_cgan_on_prepared_mnist_is_bitwise_the_in_memory_run(cache: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             tiny: dict) -> None:
    prepare("mnist", 28, split="train", progress=False)
    opts = {**tiny, "data": "mnist", "steps": 3, "quiet": True}
    ganforge.train("cgan", out=tmp_path / "prepared", **opts)
    in_memory(monkeypatch, tmp_path)
    ganforge.train("cgan", out=tmp_path / "memory", **opts)
    a, b = (load_checkpoint(tmp_path / r / "checkpoints" / "last.pt")["variant"]
            for r in ("prepared", "memory"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@needs_subset
def test_celeba_prepared_with_attributes_and_flips(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = str(make_celeba(tmp_path / "data", 20))
    out = tmp_path / "faces"
    train, test = prepare("celeba", 16, data_dir=data_dir, out=out, progress=False)
    assert (train, test) == (out / "train", out / "test")
    prepared = load_dataset(f"prepared:{out}", image_size=16)
    memory = load_dataset("celeba", data_dir=data_dir, image_size=16)
    assert prepared.spec() == memory.spec() and len(prepared) == 18
    assert torch.equal(prepared.images, memory.images)
    assert_same_batches(prepared, memory)  # the seeded flips, the attributes
    assert len(load_dataset(f"prepared:{out}", split="test")) == 2


def test_prepare_is_atomic(tmp_path: Path) -> None:
    root = make_images(tmp_path / "imgs", 6)
    [folder] = prepare(f"folder:{root}", 16, out=tmp_path / "p", progress=False)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    source = open_source(f"folder:{root}", "train", None, 16, None)
    good = source.chunks

    def failing() -> Iterator[np.ndarray]:
        yield from good()
        raise KeyboardInterrupt  # Ctrl-C after every image was written

    source.chunks = failing
    with pytest.raises(KeyboardInterrupt):
        write_split(source, folder, progress=False)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in folder.parent.iterdir()) == ["train"]  # no temporary left


@pytest.fixture
def prepared_mnist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small prepared copy (the MNIST test split at 8 px) to damage."""
    out = tmp_path_factory.mktemp("damaged") / "p"
    prepare("mnist", 8, split="test", out=out, progress=False)
    return out


def _header_edit(**changes: object) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        h = json.loads((folder / "header.json").read_text())
        (folder / "header.json").write_text(json.dumps({**h, **changes}))
    return edit


def _resize(name: str, delta: int) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        with open(folder / name, "r+b") as f:
            f.truncate(f.seek(0, 2) + delta)
    return edit


def _other_digest(folder: Path) -> dict[str, object]:
    """The header's source record as if the images archive had changed since."""
    source = json.loads((folder / "header.json").read_text())["source"]
    return {**source, "digests": {**source["digests"], "file:t10k-images-idx3-ubyte.gz": "0"}}


DAMAGE = {
    "truncated": (_resize("images.u8", -64), "images.u8 is truncated"),
    "longer": (_resize("images.u8", 7), "longer than its header says"),
    "no labels": (lambda f: (f / "labels.i64").unlink(), "has no labels.i64"),
    "not json": (lambda f: (f / "header.json").write_bytes(b"\x00{"), "is not JSON"),
    "foreign": (lambda f: (f / "header.json").write_text('{"shape": [1]}'), "not a ganforge"),
    "newer": (_header_edit(version=99), "newer ganforge .*upgrade ganforge, or run"),
    "bad shape": (_header_edit(shape=[10000, 1, 8, 9]), "malformed 'shape'"),
    "size vs shape": (_header_edit(image_size=16), "malformed 'image_size'"),
    "labels": (lambda f: (f / "labels.i64").write_bytes(np.full(10000, 10).tobytes()),
               "labels outside 0..9"),
    "source": (lambda f: _header_edit(source=_other_digest(f))(f),
               r"does not match its source .*/mnist any more \(t10k-images-idx3-ubyte.gz "
               r"changed\)"),
}


@pytest.mark.parametrize("case", DAMAGE)
def test_damaged_prepared_data_is_a_one_line_error(case: str, prepared_mnist: Path) -> None:
    damage, message = DAMAGE[case]
    damage(prepared_mnist / "test")
    with pytest.raises(DataError, match=message) as err:
        load_dataset(f"prepared:{prepared_mnist}", split="test")
    text = str(err.value)
    assert "\n" not in text and "ganforge prepare " in text, text
    if case in ("truncated", "labels"):  # the header is fine: the fix is the exact command
        assert f"ganforge prepare mnist --image-size 8 --split test --out {prepared_mnist}" in text


def test_a_file_cut_while_in_use_is_a_one_line_error(prepared_mnist: Path) -> None:
    data = load_dataset(f"prepared:{prepared_mnist}", split="test")
    _resize("images.u8", -64 * 100)(prepared_mnist / "test")
    assert data.make_batch(torch.tensor([0, 5]), torch.device("cpu")).x.shape == (2, 1, 8, 8)
    with pytest.raises(DataError, match=r"ends before row 9999: it was cut short while in use"):
        data.make_batch(torch.tensor([0, 9999]), torch.device("cpu"))


def test_prepared_path_errors(prepared_mnist: Path) -> None:
    with pytest.raises(DataError, match=r"holds no prepared train split \(it has: test\)"):
        load_dataset(f"prepared:{prepared_mnist}")
    with pytest.raises(DataError, match="holds 1-channel 8 px images; drop --image-size"):
        load_dataset(f"prepared:{prepared_mnist}", split="test", image_size=16)
    assert len(load_dataset(f"prepared:{prepared_mnist / 'test'}", split="test")) == 10000


def test_prepare_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_images(tmp_path / "imgs", 3)
    out = tmp_path / "p"
    assert main(["prepare", f"folder:{root}", "--image-size", "16", "--channels", "1",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"3 images of 1x16x16 (0.0 MB) in {out / 'train'}" in printed
    assert f"--data prepared:{out} --image-size 16 --channels 1" in printed
    for argv, message in ((["facades"], "cannot prepare 'facades'; choose from: mnist, "),
                          (["mnist", "--split", "val"], "unknown split 'val' for mnist"),
                          ([f"folder:{root}", "--split", "test"], "unknown split 'test'")):
        assert main(["prepare", *argv, "--image-size", "16", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
