"""Tests for ganforge.data: IDX files and downloads, folders, toy sets, stacked MNIST, loader."""

from __future__ import annotations

import gzip
import http.server
import importlib.util
import os
import sys
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

if importlib.util.find_spec("ganforge") is None:  # not installed: run from the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ganforge.data import (  # noqa: E402
    Batch,
    BatchLoader,
    InMemoryDataset,
    dataset_names,
    describe_datasets,
    idx,
    load_dataset,
    toy_modes,
)
from ganforge.data.shaping import convert_channels  # noqa: E402
from ganforge.data.stacked import stack_digits  # noqa: E402
from ganforge.errors import ConfigError, DataError, GanforgeError  # noqa: E402


def _shared_data() -> Path | None:
    """The shared data folder next to the repo, else $GANFORGE_DATA, else None."""
    here = Path(__file__).resolve().parents[2] / "shared" / "data"
    if here.is_dir():
        return here
    env = os.environ.get("GANFORGE_DATA")
    return Path(env) if env and Path(env).is_dir() else None


SHARED = _shared_data()
needs_shared = pytest.mark.skipif(
    SHARED is None or not (SHARED / "fashion_mnist" / "raw").is_dir(),
    reason="shared data folder with fashion_mnist not available",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No $GANFORGE_DATA, a private cache folder, and unreachable download mirrors."""
    monkeypatch.delenv("GANFORGE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(idx, "MIRRORS", {k: ["http://127.0.0.1:1/"] for k in idx.MIRRORS})
    return tmp_path / "xdg" / "ganforge"


@pytest.fixture(scope="module")
def mnist_train() -> InMemoryDataset:
    """The shipped MNIST training set (loaded once)."""
    return load_dataset("mnist")


@pytest.fixture
def http_server() -> Iterator[str]:
    """A loopback HTTP server over the shared data folder; yields its base URL."""
    assert SHARED is not None

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(Quiet, directory=str(SHARED))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --- IDX datasets ----------------------------------------------------------------------------


def test_mnist_ships_verified(mnist_train: InMemoryDataset) -> None:
    shipped = idx.SHIPPED["mnist"]
    for name, digest in idx.SHA256["mnist"].items():
        assert idx.sha256_file(shipped / name) == digest
    assert idx.find_split("mnist", "train") == shipped
    ds = mnist_train
    assert len(ds) == 60000 and ds.sample_shape == (1, 28, 28) and ds.kind == "image"
    assert ds.data.dtype == torch.uint8 and ds.labels is not None
    assert ds.labels.dtype == torch.int64 and ds.num_classes == 10
    assert int(ds.labels.min()) == 0 and int(ds.labels.max()) == 9
    assert ds.labels[:5].tolist() == [5, 0, 4, 1, 9]
    test = load_dataset("mnist", split="test")
    assert len(test) == 10000 and test.labels is not None and test.labels[:3].tolist() == [7, 2, 1]


@needs_shared
def test_mnist_from_data_dir() -> None:
    assert SHARED is not None
    assert idx.find_split("mnist", "test", SHARED) == SHARED / "mnist" / "raw"


@needs_shared
def test_fashion_via_env_and_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    assert SHARED is not None
    via_arg = load_dataset("fashion-mnist", split="test", data_dir=str(SHARED))
    monkeypatch.setenv("GANFORGE_DATA", str(SHARED))
    via_env = load_dataset("fashion_mnist", split="test")
    assert len(via_env) == 10000 and via_env.sample_shape == (1, 28, 28)
    assert torch.equal(via_arg.data, via_env.data) and via_env.labels is not None
    assert via_env.labels[:5].tolist() == [9, 2, 1, 1, 6]


@needs_shared
def test_fashion_layout_without_raw(tmp_path: Path) -> None:
    assert SHARED is not None
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    for name in idx.FILES["test"]:
        (folder / name).symlink_to(SHARED / "fashion_mnist" / "raw" / name)
    assert idx.find_split("fashion-mnist", "test", tmp_path) == folder


@needs_shared
def test_download_over_http(http_server: str, isolated_env: Path) -> None:
    idx.MIRRORS["fashion-mnist"] = ["http://127.0.0.1:1/", f"{http_server}/fashion_mnist/raw/"]
    ds = load_dataset("fashion-mnist", split="test")
    cached = isolated_env / "fashion_mnist" / "raw"
    assert sorted(os.listdir(cached)) == sorted(idx.FILES["test"])  # no temp files left
    assert len(ds) == 10000
    idx.MIRRORS["fashion-mnist"] = ["http://127.0.0.1:1/"]  # now served from the cache
    assert torch.equal(load_dataset("fashion-mnist", split="test").data, ds.data)


@needs_shared
def test_download_file_url_and_bad_checksum(tmp_path: Path) -> None:
    assert SHARED is not None
    name = "t10k-labels-idx1-ubyte.gz"
    src = SHARED / "fashion_mnist" / "raw" / name
    dest = tmp_path / "dl" / name
    idx.download_file(src.as_uri(), dest, idx.SHA256["fashion-mnist"][name])
    assert idx.sha256_file(dest) == idx.SHA256["fashion-mnist"][name]
    bad = tmp_path / "bad" / name
    with pytest.raises(DataError, match="SHA256"):
        idx.download_file(src.as_uri(), bad, idx.SHA256["mnist"][name])
    assert os.listdir(bad.parent) == []


@needs_shared
def test_mirror_with_wrong_files_leaves_nothing(isolated_env: Path) -> None:
    assert SHARED is not None
    idx.MIRRORS["fashion-mnist"] = [(SHARED / "mnist" / "raw").as_uri()]
    with pytest.raises(DataError, match="SHA256") as err:
        load_dataset("fashion-mnist", split="test")
    assert "\n" not in str(err.value)
    assert list((isolated_env / "fashion_mnist" / "raw").iterdir()) == []


def test_offline_error_is_one_line() -> None:
    for download in (True, False):
        with pytest.raises(DataError) as err:
            idx.load_idx("fashion-mnist", "train", download=download)
        msg = str(err.value)
        assert "\n" not in msg
        for needle in (*idx.FILES["train"], "fashion_mnist/raw", "--data-dir", "GANFORGE_DATA"):
            assert needle in msg


def test_corrupt_idx(tmp_path: Path) -> None:
    raw = gzip.decompress((idx.SHIPPED["mnist"] / "t10k-labels-idx1-ubyte.gz").read_bytes())
    assert idx.parse_idx(raw).shape == (10000,)
    cases = {
        "magic.gz": gzip.compress(b"\x12\x34\x56\x78" + raw[4:]),
        "short.gz": gzip.compress(raw[:-10]),
        "cut.gz": gzip.compress(raw)[:-100],
        "empty.gz": b"",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(DataError) as err:
            idx.read_idx(tmp_path / name)
        assert "\n" not in str(err.value) and name in str(err.value)
    bad_dir = tmp_path / "root" / "fashion_mnist" / "raw"
    bad_dir.mkdir(parents=True)
    for name in idx.FILES["test"]:
        (bad_dir / name).write_bytes(gzip.compress(raw[:100]))
    with pytest.raises(DataError, match="SHA256"):
        load_dataset("fashion-mnist", split="test", data_dir=str(tmp_path / "root"))


# --- registry ---------------------------------------------------------------------------------


def test_registry_names_and_errors() -> None:
    names = dataset_names()
    for name in ("mnist", "fashion-mnist", "stacked-mnist", "ring8", "grid25", "gauss1d"):
        assert name in names
    assert "swissroll" in names and "folder:PATH" in names
    assert all(desc and "\n" not in desc for _, desc in describe_datasets())
    with pytest.raises(ConfigError, match="choose from: .*mnist"):
        load_dataset("cifar-1000")
    with pytest.raises(ConfigError, match="valid splits: train, test"):
        load_dataset("mnist", split="validation")
    with pytest.raises(GanforgeError, match="channels"):
        load_dataset("mnist", split="test", channels=2)


def test_resize_and_channels() -> None:
    ds = load_dataset("mnist", split="test", image_size=32, channels=3)
    assert ds.data.shape == (10000, 3, 32, 32) and ds.data.dtype == torch.uint8
    assert torch.equal(ds.data[:, 0], ds.data[:, 2]) and int(ds.data.max()) > 200
    rgb = torch.zeros(2, 3, 2, 2, dtype=torch.uint8)
    rgb[0, 0] = 255  # pure red -> luma 76
    rgb[1] = 255
    gray = convert_channels(rgb, 1)
    assert gray.shape == (2, 1, 2, 2) and gray[0].unique().tolist() == [76]
    assert gray[1].unique().tolist() == [255]


# --- folders ----------------------------------------------------------------------------------


def _make_folder(root: Path) -> Path:
    """Four readable images of assorted sizes and modes, one corrupt file, one text file."""
    (root / "sub" / "deeper").mkdir(parents=True)
    wide = np.zeros((10, 30, 3), dtype=np.uint8)
    wide[:, 10:20, 1] = 255  # green middle third, black sides: centre crop is all green
    Image.fromarray(wide).save(root / "wide.png")
    Image.fromarray(np.full((50, 20), 128, dtype=np.uint8), "L").save(root / "tall.PNG")
    Image.new("RGBA", (64, 64), (255, 0, 0, 255)).save(root / "sub" / "rgba.png")
    Image.new("RGB", (33, 17), (0, 0, 255)).save(root / "sub" / "deeper" / "photo.jpg")
    (root / "sub" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    (root / "notes.txt").write_text("not an image")
    return root


def test_folder_loading(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _make_folder(tmp_path / "imgs")
    ds = load_dataset(f"folder:{root}", image_size=8)
    assert ds.data.shape == (4, 3, 8, 8) and ds.data.dtype == torch.uint8
    assert ds.skipped == 1 and ds.labels is None and ds.name == f"folder:{root}"
    assert capsys.readouterr().err.count("skipped 1") == 1
    by_name = dict(zip(["photo", "rgba", "tall", "wide"], ds.data))  # sorted path order
    assert by_name["wide"][1].min() > 200 and by_name["wide"][0].max() < 30
    assert by_name["rgba"][0].min() > 250 and by_name["tall"].float().std() < 1
    gray = load_dataset(f"folder:{root}", image_size=8, channels=1)
    assert gray.data.shape == (4, 1, 8, 8)
    assert int(gray.data[2].float().mean().round()) == 128  # tall: uniform gray 128
    assert int(gray.data[0].float().mean().round()) == 29  # photo: blue, luma 0.114 * 255


def test_folder_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.jpg").write_bytes(b"garbage")
    for path, needle in [
        (tmp_path / "missing", "does not exist"),
        (tmp_path / "empty", "no image files"),
        (tmp_path / "junk", "could be read"),
    ]:
        with pytest.raises(DataError, match=needle) as err:
            load_dataset(f"folder:{path}", image_size=8)
        assert "\n" not in str(err.value)


# --- toy sets and stacked MNIST ---------------------------------------------------------------


def _nearest_mode_offsets(points: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of each point from its nearest mode centre, and which mode that is."""
    centres, _ = toy_modes(name)
    dist = np.linalg.norm(points[:, None, :] - centres[None], axis=2)
    nearest = dist.argmin(1)
    return points - centres[nearest], nearest


def test_toy_sets() -> None:
    ring = load_dataset("ring8", seed=3)
    assert ring.kind == "points" and ring.data.shape == (20000, 2)
    assert ring.data.dtype == torch.float32 and ring.sample_shape == (2,)
    pts = ring.data.numpy().astype(np.float64)
    assert abs(np.linalg.norm(pts, axis=1).mean() - 2) < 0.005
    offsets, nearest = _nearest_mode_offsets(pts, "ring8")
    assert abs(offsets.std() - 0.02) < 0.002 and len(np.unique(nearest)) == 8
    grid = load_dataset("grid25").data.numpy().astype(np.float64)
    offsets, nearest = _nearest_mode_offsets(grid, "grid25")
    assert abs(offsets.std() - 0.05) < 0.003 and len(np.unique(nearest)) == 25
    assert toy_modes("grid25")[0].shape == (25, 2) and toy_modes("ring8")[1] == 0.02
    g = load_dataset("gauss1d").data
    assert g.shape == (20000, 1) and abs(g.mean() - 4) < 0.02 and abs(g.std() - 0.5) < 0.02
    roll = load_dataset("swissroll").data
    assert roll.shape == (20000, 2) and roll.abs().max() < 2.5
    assert torch.equal(load_dataset("ring8", seed=3).data, ring.data)
    assert not torch.equal(load_dataset("ring8", seed=4).data, ring.data)
    assert not torch.equal(load_dataset("ring8", seed=3, split="test").data, ring.data)
    with pytest.raises(DataError, match="'swissroll' has no discrete modes; choose from: ring8"):
        toy_modes("swissroll")


def test_stacked_mnist() -> None:
    ds = load_dataset("stacked-mnist", split="test", seed=1)
    assert ds.data.shape == (10000, 3, 28, 28) and ds.num_classes == 1000
    assert ds.labels is not None and 0 <= int(ds.labels.min()) and int(ds.labels.max()) < 1000
    assert len(ds.labels.unique()) > 900
    assert torch.equal(load_dataset("stacked-mnist", split="test", seed=1).labels, ds.labels)
    images = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1).expand(10, 1, 2, 2)
    stacked, labels = stack_digits(images, torch.arange(10), n=50, seed=0)
    assert stacked.shape == (50, 3, 2, 2)
    digits = stacked[:, :, 0, 0].long()  # image value == its digit here
    assert torch.equal(labels, digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2])


# --- BatchLoader ------------------------------------------------------------------------------


@pytest.fixture
def tiny() -> InMemoryDataset:
    """103 constant 1x4x4 images whose pixel value is their index; label = index % 7."""
    data = torch.arange(103, dtype=torch.uint8).view(103, 1, 1, 1).expand(103, 1, 4, 4)
    return InMemoryDataset("tiny", data.contiguous(), torch.arange(103) % 7, num_classes=7)


def _ids(batches: Iterator[Batch]) -> list[list[int]]:
    """Recover example indices from batches of the `tiny` dataset."""
    return [((b.x[:, 0, 0, 0] + 1) * 255 / 2).round().long().tolist() for b in batches]


def test_loader_batches(tiny: InMemoryDataset) -> None:
    loader = BatchLoader(tiny, 10, seed=0)
    assert len(loader) == 10 and len(BatchLoader(tiny, 10, seed=0, drop_last=False)) == 11
    batches = list(loader.epoch(0))
    assert len(batches) == 10
    b = batches[0]
    assert b.x.shape == (10, 1, 4, 4) and b.x.dtype == torch.float32 and b.size == 10
    assert b.x.device.type == "cpu" and b.y is not None and b.y.dtype == torch.int64
    ids = _ids(iter(batches))
    assert len({i for batch in ids for i in batch}) == 100
    assert all(torch.equal(bb.y, torch.tensor(i) % 7) for bb, i in zip(batches, ids))
    full = BatchLoader(tiny, 103, seed=0).batch(torch.tensor([0, 102]))
    assert full.x.min() == -1.0 and full.x.max() <= 1.0
    img = load_dataset("mnist", split="test")
    x = next(BatchLoader(img, 64, seed=0).epoch(0)).x
    assert x.shape == (64, 1, 28, 28) and x.min() == -1.0 and x.max() == 1.0
    assert next(BatchLoader(tiny, 5, seed=0, with_labels=False).epoch(0)).y is None


def test_loader_determinism(tiny: InMemoryDataset) -> None:
    state = torch.get_rng_state()
    loader = BatchLoader(tiny, 8, seed=5)
    epoch3 = _ids(loader.epoch(3))
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is never touched
    assert _ids(BatchLoader(tiny, 8, seed=5).epoch(3)) == epoch3
    assert _ids(loader.epoch(3, start=4)) == epoch3[4:]
    assert _ids(loader.epoch(3, start=len(loader))) == []
    assert _ids(loader.epoch(4)) != epoch3
    assert _ids(BatchLoader(tiny, 8, seed=6).epoch(3)) != epoch3
    gen = torch.Generator().manual_seed(5 * 100003 + 3)
    assert epoch3[0] == torch.randperm(103, generator=gen)[:8].tolist()


def test_loader_points_and_errors(tiny: InMemoryDataset) -> None:
    pts = load_dataset("gauss1d")
    batch = next(BatchLoader(pts, 32, seed=0).epoch(0))
    assert batch.x.shape == (32, 1) and batch.y is None and batch.x.mean() > 3
    for size in (0, -3):
        with pytest.raises(GanforgeError, match="positive"):
            BatchLoader(tiny, size, seed=0)
    with pytest.raises(GanforgeError) as err:
        BatchLoader(tiny, 1000, seed=0)
    msg = str(err.value)
    assert "\n" not in msg and "103 examples" in msg and "--batch-size <= 103" in msg
    with pytest.raises(GanforgeError, match="start batch 11 is outside epoch of 10 batches"):
        next(BatchLoader(tiny, 10, seed=0).epoch(0, start=11))
