"""Tests for translation data: paired/unpaired datasets, their augmentation, loading, downloads."""

from __future__ import annotations

import http.server
import io
import os
import shutil
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.data import BatchLoader, archives, dataset_names, describe_datasets, idx, load_dataset
from ganforge.data.dataset import TrainData, to_unit_range
from ganforge.data.digit_styles import bold_inverted, pad_digits
from ganforge.data.translation import PairedImages, UnpairedImages, load_size
from ganforge.errors import ConfigError, DataError

SHARED = Path(os.environ.get("GANFORGE_DATA", "/nonexistent"))
needs_facades = pytest.mark.skipif(not (SHARED / "facades").is_dir(),
                                   reason="shared facades folder not available")
needs_h2z = pytest.mark.skipif(not (SHARED / "horse2zebra").is_dir(),
                               reason="shared horse2zebra folder not available")
CPU = torch.device("cpu")
FACADES_VAL = ("1.jpg", "10.jpg", "100.jpg")
H2Z_TEST = {"testA": ("n02381460_1000.jpg", "n02381460_1010.jpg"),
            "testB": ("n02391049_100.jpg", "n02391049_1000.jpg")}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _images(n: int, size: int, channels: int = 3, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, (n, channels, size, size), generator=_gen(seed),
                         dtype=torch.uint8)


def _jpeg(path: Path, w: int, h: int, mode: str = "RGB", seed: int = 0) -> Path:
    """A random-noise JPEG of w x h pixels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = (h, w) if mode == "L" else (h, w, 3)
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path)
    return path


# --- augmentation -----------------------------------------------------------------------------


def test_load_size_scales_the_papers_286() -> None:
    assert [load_size(c) for c in (32, 64, 128, 256)] == [36, 72, 143, 286]


def test_paired_crop_and_flip_match_a_hand_computation() -> None:
    a, size, crop = _images(6, 20), 20, 16
    ds = PairedImages("t", a, 255 - a, crop)
    idx_ = torch.tensor([4, 0, 5, 2, 3, 1])
    batch = ds.make_batch(idx_, CPU, _gen(3))
    g = _gen(3)  # the draws, in their documented order: rows, columns, flips
    top = torch.randint(0, size - crop + 1, (6,), generator=g)
    left = torch.randint(0, size - crop + 1, (6,), generator=g)
    flips = torch.rand(6, generator=g) < 0.5
    assert 0 < int(flips.sum()) < 6  # both cases occur with this seed
    for k, i in enumerate(idx_.tolist()):
        t, l = int(top[k]), int(left[k])  # noqa: E741
        window = a[i, :, t : t + crop, l : l + crop].numpy()
        if flips[k]:
            window = window[:, :, ::-1]  # a flip is exactly reversed columns
        want = to_unit_range(torch.from_numpy(window.copy())[None], CPU)[0]
        assert torch.equal(batch.a[k], want)
        want_b = to_unit_range(torch.from_numpy(255 - window)[None], CPU)[0]
        assert torch.equal(batch.b[k], want_b)  # the same window and flip for B
    assert batch.x is batch.b and batch.y is None


def test_without_generator_centre_crop_no_flip() -> None:
    a, b = _images(4, 20), _images(4, 20, seed=1)
    batch = PairedImages("t", a, b, 16).make_batch(torch.arange(4), CPU)
    assert torch.equal(batch.a, to_unit_range(a[:, :, 2:18, 2:18], CPU))
    assert torch.equal(batch.b, to_unit_range(b[:, :, 2:18, 2:18], CPU))
    assert batch.a.min() >= -1 and batch.a.max() <= 1


def test_flip_off_and_crop_equal_to_load_size() -> None:
    a = _images(4, 16)
    ds = PairedImages("t", a, a, 16, flip=False)
    for seed in range(5):
        assert torch.equal(ds.make_batch(torch.arange(4), CPU, _gen(seed)).a, to_unit_range(a, CPU))


def test_seeded_determinism() -> None:
    a = _images(8, 36)
    for ds in (PairedImages("p", a, a, 32), UnpairedImages("u", a, _images(5, 36), 32)):
        idx_ = torch.arange(8)
        same = [ds.make_batch(idx_, CPU, _gen(7)) for _ in range(2)]
        other = ds.make_batch(idx_, CPU, _gen(8))
        assert torch.equal(same[0].a, same[1].a) and torch.equal(same[0].b, same[1].b)
        assert not torch.equal(same[0].a, other.a)


def test_resumed_loader_sees_the_same_batches() -> None:
    ds = UnpairedImages("u", _images(10, 20), _images(7, 20, seed=1), 16)
    loader = BatchLoader(ds, 3, seed=5)
    full = list(loader.epoch(1))
    resumed = list(loader.epoch(1, start=2))
    for x, y in zip(full[2:], resumed):
        assert torch.equal(x.a, y.a) and torch.equal(x.b, y.b)


def test_unpaired_partners_cover_b_and_crops_are_independent() -> None:
    a, b = _images(5, 20), _images(13, 20, seed=1)
    ds = UnpairedImages("u", a, b, 16)
    assert len(ds) == 13
    idx_ = torch.arange(13)
    seen: set[int] = set()
    for seed in range(20):
        seen.update(ds.partners(idx_, _gen(seed))[1].tolist())
    assert seen == set(range(13))
    ia, ib = ds.partners(idx_)  # no generator: B[i % NB], A[i % NA]
    assert ia.tolist() == [i % 5 for i in range(13)] and ib.tolist() == list(range(13))
    batch = ds.make_batch(idx_, CPU, _gen(2))
    g = _gen(2)  # partners, then A's window (rows, columns, flips), then B's
    ib = torch.randint(0, 13, (13,), generator=g)
    win = [(torch.randint(0, 5, (13,), generator=g), torch.randint(0, 5, (13,), generator=g),
            torch.rand(13, generator=g) < 0.5) for _ in range(2)]
    assert not torch.equal(win[0][0], win[1][0])  # independent windows for A and B
    for k in range(13):
        for images, i, out, (top, left, flip) in ((a, k % 5, batch.a, win[0]),
                                                  (b, int(ib[k]), batch.b, win[1])):
            t, l = int(top[k]), int(left[k])  # noqa: E741
            want = images[i, :, t : t + 16, l : l + 16]
            want = want.flip(-1) if flip[k] else want
            assert torch.equal(out[k], to_unit_range(want[None], CPU)[0])


@pytest.mark.parametrize("crop", [64, 128, 256])
def test_shapes_at_crops(crop: int) -> None:
    size = load_size(crop)
    paired: TrainData = PairedImages("p", _images(3, size), _images(3, size, seed=1), crop)
    unpaired: TrainData = UnpairedImages("u", _images(3, size), _images(2, size, seed=1), crop)
    for ds, pairing in ((paired, "paired"), (unpaired, "unpaired")):
        batch = ds.make_batch(torch.tensor([0, 2]), CPU, _gen(0))
        assert batch.a is not None and batch.b is not None
        assert batch.a.shape == batch.b.shape == (2, 3, crop, crop)
        spec = ds.spec()
        assert (spec.shape, spec.shape_b, spec.pairing) == ((3, crop, crop), (3, crop, crop),
                                                            pairing)


def test_dataset_shape_errors() -> None:
    with pytest.raises(DataError, match="paired domains differ in count or size"):
        PairedImages("p", _images(4, 20), _images(3, 20), 16)
    with pytest.raises(DataError, match="paired domains differ in count or size"):
        PairedImages("p", _images(4, 20), _images(4, 24), 16)
    with pytest.raises(DataError, match="crop 32 does not fit"):
        UnpairedImages("u", _images(4, 20), _images(3, 40), 32)
    with pytest.raises(DataError, match="must be uint8 images"):
        UnpairedImages("u", _images(4, 20).float(), _images(3, 20), 16)


# --- loading from folders ---------------------------------------------------------------------


def _copy(files: list[Path], dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copy(f, dest / f.name)
    return dest


@needs_facades
def test_facades_halves_and_direction(tmp_path: Path) -> None:
    _copy([SHARED / "facades" / "val" / f for f in FACADES_VAL], tmp_path / "facades" / "val")
    ab = load_dataset("facades", split="val", data_dir=str(tmp_path), image_size=64)
    ba = load_dataset("facades", split="val", data_dir=str(tmp_path), image_size=64,
                      direction="BtoA")
    assert isinstance(ab, PairedImages) and isinstance(ba, PairedImages)
    assert ab.a.shape == (3, 3, 72, 72) and ab.skipped == 0
    assert torch.equal(ab.a, ba.b) and torch.equal(ab.b, ba.a)
    assert ab.spec().domains == ("photo", "labels") and ba.spec().domains == ("labels", "photo")
    with Image.open(SHARED / "facades" / "val" / "1.jpg") as img:  # sorted: 1, 10, 100
        rgb = img.convert("RGB")
    for half, box in ((ab.a[0], (0, 0, 256, 256)), (ab.b[0], (256, 0, 512, 256))):
        want = np.asarray(rgb.resize((72, 72), Image.Resampling.BICUBIC, box=box), np.float32)
        assert np.abs(half.numpy().transpose(1, 2, 0) - want).mean() < 4  # JPEG draft decoding


@needs_facades
@needs_h2z
def test_shared_splits_load() -> None:
    facades = load_dataset("facades", split="test", image_size=64)
    assert len(facades) == 106 and facades.spec().shape == (3, 64, 64)
    h2z = load_dataset("horse2zebra", split="test", image_size=64)
    assert isinstance(h2z, UnpairedImages)
    assert (h2z.a.shape[0], h2z.b.shape[0], len(h2z)) == (120, 140, 140)
    assert h2z.spec().domains == ("horse", "zebra") and h2z.a.shape[1:] == (3, 72, 72)


@needs_h2z
def test_unpaired_folder_gray_to_rgb_and_skipped(tmp_path: Path) -> None:
    gray = SHARED / "horse2zebra" / "trainB" / "n02391049_226.jpg"
    with Image.open(gray) as img:
        assert img.mode == "L"
    _copy([gray], tmp_path / "trainB")
    (tmp_path / "trainB" / "broken.jpg").write_bytes(b"not a jpeg")
    _jpeg(tmp_path / "trainA" / "x.png", 40, 30)
    ds = load_dataset(f"unpaired:{tmp_path}", image_size=32, direction="BtoA")
    assert isinstance(ds, UnpairedImages) and ds.skipped == 1
    assert ds.a.shape == (1, 3, 36, 36) and ds.b.shape == (1, 3, 36, 36)
    assert torch.equal(ds.a[0, 0], ds.a[0, 1]) and torch.equal(ds.a[0, 0], ds.a[0, 2])
    assert ds.spec().domains == ("B", "A")


def test_paired_path_layouts_and_skipped(tmp_path: Path) -> None:
    for i in range(3):
        _jpeg(tmp_path / "flat" / f"{i}.jpg", 64, 32, seed=i)
    (tmp_path / "flat" / "bad.png").write_bytes(b"\x89PNG truncated")
    ds = load_dataset(f"paired:{tmp_path / 'flat'}", image_size=16)
    assert isinstance(ds, PairedImages) and len(ds) == 3 and ds.skipped == 1
    assert ds.a.shape == (3, 3, 18, 18)
    _copy(sorted((tmp_path / "flat").glob("*.jpg")), tmp_path / "split" / "test")
    assert len(load_dataset(f"paired:{tmp_path / 'split'}", split="test", image_size=16)) == 3
    with pytest.raises(DataError, match=r"split[/\\]val does not exist"):
        load_dataset(f"paired:{tmp_path / 'split'}", split="val")


def test_not_twice_as_wide_is_one_line(tmp_path: Path) -> None:
    _jpeg(tmp_path / "train" / "ok.jpg", 64, 32)
    _jpeg(tmp_path / "train" / "square.jpg", 40, 40)
    with pytest.raises(DataError, match=r"square\.jpg is 40x40 pixels; .*twice as wide") as err:
        load_dataset(f"paired:{tmp_path}")
    assert "\n" not in str(err.value)


def test_empty_folders_and_bad_options(tmp_path: Path) -> None:
    (tmp_path / "trainA").mkdir()
    _jpeg(tmp_path / "trainB" / "b.jpg", 20, 20)
    with pytest.raises(DataError, match=r"trainA has no image files; expected the images of one"):
        load_dataset(f"unpaired:{tmp_path}")
    with pytest.raises(DataError, match=r"testA does not exist"):
        load_dataset(f"unpaired:{tmp_path}", split="test")
    with pytest.raises(ConfigError, match=r"unknown direction 'AtoC'; choose from: AtoB, BtoA"):
        load_dataset(f"unpaired:{tmp_path}", direction="AtoC")
    with pytest.raises(ConfigError, match=r"unknown split 'val'; valid splits: train, test"):
        load_dataset(f"unpaired:{tmp_path}", split="val")
    with pytest.raises(ConfigError, match=r"unknown split 'dev' for facades; valid splits: "
                       r"train, val, test"):
        load_dataset("facades", split="dev")
    with pytest.raises(ConfigError, match="unknown split 'val' for horse2zebra"):
        load_dataset("horse2zebra", split="val")
    with pytest.raises(ConfigError, match="paired: needs a path"):
        load_dataset("paired:")


def test_listed_in_the_registry() -> None:
    names = dataset_names()
    for name in ("facades", "horse2zebra", "mnist-style", "paired:PATH", "unpaired:PATH"):
        assert name in names
    assert all("\n" not in desc for _, desc in describe_datasets())


# --- downloads --------------------------------------------------------------------------------


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No $GANFORGE_DATA, a private cache, unreachable URLs; returns the cache folder."""
    monkeypatch.delenv("GANFORGE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(archives, "URLS", {k: ["http://127.0.0.1:1/x"] for k in archives.URLS})
    return tmp_path / "xdg" / "ganforge"


def _small_manifests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Manifests of the few files the test archives hold, taken from the shipped ones."""
    wanted = {"facades": [f"val/{f}" for f in FACADES_VAL],
              "horse2zebra": [f"{d}/{f}" for d, files in H2Z_TEST.items() for f in files]}
    folder = tmp_path / "manifests"
    folder.mkdir()
    for name, rels in wanted.items():
        shipped = archives.read_manifest(name)
        lines = ["# test manifest", *(f"{shipped[rel]}  {rel}" for rel in rels)]
        (folder / f"{name}.sha256.txt").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(archives, "MANIFEST_DIR", folder)


def _facades_tar(path: Path, corrupt: bool = False) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for i, f in enumerate(FACADES_VAL):
            data = (SHARED / "facades" / "val" / f).read_bytes()
            if corrupt and i == 1:
                data = data[:-1] + bytes([data[-1] ^ 1])
            info = tarfile.TarInfo(f"facades/val/{f}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server over a temporary folder; yields its base URL and the folder."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=root))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def test_shipped_manifests_match_the_shared_copies() -> None:
    for name, count in (("facades", 606), ("horse2zebra", 1060)):
        manifest = archives.read_manifest(name)
        assert len(manifest) == count
        if (SHARED / name).is_dir():
            archives.verify_files(SHARED / name, manifest, f"shared {name}")


@needs_facades
def test_download_tar_from_file_url(offline: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _small_manifests(tmp_path, monkeypatch)
    archive = _facades_tar(tmp_path / "facades.tar.gz")
    archives.URLS["facades"] = ["http://127.0.0.1:1/facades.tar.gz", archive.as_uri()]
    ds = load_dataset("facades", split="val", image_size=32)
    assert len(ds) == 3
    assert os.listdir(offline) == ["facades"]  # nothing left of the download
    assert sorted(os.listdir(offline / "facades" / "val")) == sorted(FACADES_VAL)
    archives.URLS["facades"] = ["http://127.0.0.1:1/x"]  # now served from the cache
    assert isinstance(ds, PairedImages)
    again = load_dataset("facades", split="val", image_size=32)
    assert isinstance(again, PairedImages) and torch.equal(again.a, ds.a)


@needs_h2z
def test_download_zip_over_http(offline: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                http_server: tuple[str, Path]) -> None:
    _small_manifests(tmp_path, monkeypatch)
    url, www = http_server
    with zipfile.ZipFile(www / "horse2zebra.zip", "w") as zf:
        for folder, files in H2Z_TEST.items():
            for f in files:
                zf.write(SHARED / "horse2zebra" / folder / f, f"horse2zebra/{folder}/{f}")
    archives.URLS["horse2zebra"] = [f"{url}/horse2zebra.zip"]
    ds = load_dataset("horse2zebra", split="test", image_size=32)
    assert isinstance(ds, UnpairedImages) and (len(ds.a), len(ds.b)) == (2, 2)
    assert os.listdir(offline) == ["horse2zebra"]
    with pytest.raises(DataError, match="exists but lacks the requested split"):
        load_dataset("horse2zebra", split="train")  # the cache holds test only


@needs_facades
def test_checksum_mismatch_discards_the_download(offline: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _small_manifests(tmp_path, monkeypatch)
    archive = _facades_tar(tmp_path / "facades.tar.gz", corrupt=True)
    archives.URLS["facades"] = [archive.as_uri()]
    with pytest.raises(DataError, match=r"val/10\.jpg has SHA256 .*expected") as err:
        load_dataset("facades", split="val")
    assert "\n" not in str(err.value)
    assert os.listdir(offline) == []  # nothing extracted, no temporary folder left


def test_unsafe_or_broken_archive(offline: Path, tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tf:
        info = tarfile.TarInfo("../facades/val/1.jpg")
        tf.addfile(info, io.BytesIO(b""))
    archives.URLS["facades"] = [evil.as_uri()]
    with pytest.raises(DataError, match="unsafe entries"):
        load_dataset("facades", split="val")
    (tmp_path / "junk.zip").write_bytes(b"junk")
    archives.URLS["facades"] = [(tmp_path / "junk.zip").as_uri()]
    with pytest.raises(DataError, match="not a readable archive"):
        load_dataset("facades", split="val")
    assert os.listdir(offline) == []


def test_offline_error_names_folders_and_roots(offline: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        load_dataset("horse2zebra", split="train", data_dir=str(tmp_path / "mine"))
    msg = str(err.value)
    assert "\n" not in msg
    for needle in ("DIR/horse2zebra/trainA/", "DIR/horse2zebra/trainB/", "--data-dir",
                   "GANFORGE_DATA", str(tmp_path / "mine" / "horse2zebra"),
                   str(offline / "horse2zebra")):
        assert needle in msg
    with pytest.raises(DataError, match="downloads are disabled"):
        archives.resolve_set("facades", "train", download=False)


# --- mnist-style ------------------------------------------------------------------------------


def test_mnist_style_domains() -> None:
    ds = load_dataset("mnist-style", split="test")
    images, labels = idx.load_idx("mnist", "test")
    assert isinstance(ds, UnpairedImages) and ds.labels_a is not None and ds.labels_b is not None
    assert ds.a.shape == ds.b.shape == (5000, 1, 32, 32) and len(ds) == 5000
    assert torch.equal(ds.a, pad_digits(images[:5000]))  # disjoint halves
    assert torch.equal(ds.b, bold_inverted(pad_digits(images[5000:])))
    assert torch.equal(ds.labels_a, labels[:5000]) and torch.equal(ds.labels_b, labels[5000:])
    assert (ds.b[:, :, :2] == 255).all() and (ds.a[:, :, :2] == 0).all()  # light / dark border
    ink = (pad_digits(images[5000:]) > 127).flatten(1).sum(1)
    bold_ink = (ds.b < 128).flatten(1).sum(1)  # dark strokes, thicker than the originals
    assert (bold_ink > ink).all() and bold_ink.sum() > 1.5 * ink.sum()
    spec = ds.spec()
    assert (spec.shape, spec.num_classes, spec.domains) == ((1, 32, 32), 10,
                                                            ("mnist", "bold-inverted"))
    batch = ds.make_batch(torch.arange(4), CPU, _gen(0))
    assert batch.y is not None and torch.equal(batch.y, labels[:4])
    assert torch.equal(batch.a, to_unit_range(ds.a[:4], CPU))  # no crop, no flip
    swapped = load_dataset("mnist-style", split="test", direction="BtoA")
    assert isinstance(swapped, UnpairedImages) and torch.equal(swapped.a, ds.b)
    with pytest.raises(ConfigError, match="mnist-style images are 32x32 gray"):
        load_dataset("mnist-style", image_size=64)
