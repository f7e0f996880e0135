"""FID Inception-v3: exact state-dict layout, forward shapes, preprocessing, weight resolution."""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.features import weights as W
from ganforge.features.inception import FIDInceptionV3
from ganforge.features.resize import tf1_bilinear_resize

REFERENCE = Path("/work/shared/reference/fid_inception_v3_state_dict.txt")
if not REFERENCE.is_file():  # the same list, kept next to the tests' repository root
    REFERENCE = Path(__file__).resolve().parents[2] / "shared/reference" / REFERENCE.name


def reference_shapes() -> dict[str, tuple[int, ...]]:
    """Key -> shape from the published key list of pt_inception-2015-12-05-6726825d.pth."""
    if not REFERENCE.is_file():
        pytest.skip(f"reference key list {REFERENCE.name} not available")
    shapes: dict[str, tuple[int, ...]] = {}
    for line in REFERENCE.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, rest = line.split(" ", 1)
        dims = rest[rest.index("[") + 1 : rest.index("]")]
        shapes[key] = tuple(int(d) for d in dims.split(",") if d.strip())
    return shapes


def random_state_dict(shapes: dict[str, tuple[int, ...]], seed: int = 0) -> dict[str, torch.Tensor]:
    """Random tensors with the reference keys/shapes, scaled so 90+ layers stay finite."""
    g = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    for key, shape in shapes.items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(0, dtype=torch.int64)
        elif key.endswith("running_var"):
            state[key] = 0.5 + torch.rand(shape, generator=g)
        elif key.endswith(("running_mean", "bias")):
            state[key] = 0.1 * torch.randn(shape, generator=g)
        elif key.endswith("bn.weight"):
            state[key] = 0.5 + torch.rand(shape, generator=g)
        else:  # conv / fc weights, He-scaled by fan-in
            fan_in = math.prod(shape[1:])
            state[key] = torch.randn(shape, generator=g) * math.sqrt(2.0 / fan_in)
    return state


@pytest.fixture(scope="module")
def model() -> FIDInceptionV3:
    m = FIDInceptionV3()
    m.load_state_dict(random_state_dict(reference_shapes()), strict=True)
    return m.eval()


def test_reference_list_is_complete() -> None:
    shapes = reference_shapes()
    assert len(shapes) == 566
    assert shapes["fc.weight"] == (1008, 2048)
    assert not any(k.startswith("AuxLogits") for k in shapes)


def test_state_dict_equals_reference_exactly() -> None:
    ours = {k: tuple(v.shape) for k, v in FIDInceptionV3().state_dict().items()}
    ref = reference_shapes()
    assert sorted(set(ref) - set(ours)) == []
    assert sorted(set(ours) - set(ref)) == []
    assert ours == ref


def test_strict_load_rejects_a_missing_key() -> None:
    state = random_state_dict(reference_shapes())
    del state["Mixed_7c.branch_pool.conv.weight"]
    with pytest.raises(RuntimeError, match="Missing key"):
        FIDInceptionV3().load_state_dict(state, strict=True)


def test_pool_branches_follow_the_tf_graph() -> None:
    """A/C/E_1 average pools leave padding out of the mean; Mixed_7c's pool branch is a max pool."""
    ones = torch.ones(1, 1, 3, 3)
    x = torch.tensor([[[[1.0, 5.0, 2.0], [0.0, 3.0, 4.0], [7.0, 1.0, 0.0]]]])
    m = FIDInceptionV3()
    for block in (m.Mixed_5b, m.Mixed_6b, m.Mixed_7b):
        assert torch.equal(block.pool(ones), ones)  # with padding counted, corners would be 4/9
    corner = m.Mixed_7c.pool(x)[0, 0, 0, 0].item()
    assert corner == 5.0  # max of the top-left 2x2 window, not its mean
    assert isinstance(m.Mixed_6a.pool, nn.MaxPool2d) and isinstance(m.Mixed_7a.pool, nn.MaxPool2d)


def test_preprocess_resizes_tf1_and_normalises() -> None:
    g = torch.Generator().manual_seed(4)
    gray = torch.randint(0, 256, (2, 1, 20, 30), dtype=torch.uint8, generator=g)
    got = FIDInceptionV3.preprocess(gray)
    assert got.shape == (2, 3, 299, 299)
    expected = (tf1_bilinear_resize(gray.float(), (299, 299)) - 128) / 128
    for c in range(3):
        torch.testing.assert_close(got[:, c : c + 1], expected)
    assert got.min() >= -1 and got.max() <= 127 / 128
    torch.testing.assert_close(FIDInceptionV3.preprocess(gray.float()), got)


@pytest.mark.parametrize(
    ("images", "match"),
    [
        (torch.zeros(2, 4, 8, 8, dtype=torch.uint8), "N, 3, H, W"),
        (torch.zeros(3, 8, 8, dtype=torch.uint8), "N, 3, H, W"),
        (torch.full((1, 3, 8, 8), -1.0), r"\[0, 255\]"),
        (torch.zeros(1, 3, 8, 8, dtype=torch.int32), "dtype"),
    ],
)
def test_bad_images_are_one_line_errors(images: torch.Tensor, match: str) -> None:
    with pytest.raises(GanforgeError, match=match) as info:
        FIDInceptionV3.preprocess(images)
    assert "\n" not in str(info.value)


def test_forward_shapes_and_grayscale(model: FIDInceptionV3) -> None:
    g = torch.Generator().manual_seed(5)
    rgb = torch.randint(0, 256, (3, 64, 48), dtype=torch.uint8, generator=g)
    gray = torch.randint(0, 256, (1, 64, 48), dtype=torch.uint8, generator=g)
    batch = torch.stack([rgb, gray.expand(3, -1, -1)])

    grids: dict[str, tuple[int, ...]] = {}
    hooks = [
        getattr(model, name).register_forward_hook(
            lambda _m, _i, out, name=name: grids.__setitem__(name, tuple(out.shape))
        )
        for name in ("Mixed_5d", "Mixed_6e", "Mixed_7c")
    ]
    try:
        with torch.no_grad():
            out = model(batch)
    finally:
        for h in hooks:
            h.remove()
    assert grids == {
        "Mixed_5d": (2, 288, 35, 35),
        "Mixed_6e": (2, 768, 17, 17),
        "Mixed_7c": (2, 2048, 8, 8),
    }
    pool3, logits = out["pool3"], out["logits_unbiased"]
    assert pool3.shape == (2, 2048) and logits.shape == (2, 1008)
    assert torch.isfinite(pool3).all() and torch.isfinite(logits).all()
    assert (pool3 >= 0).all() and pool3.abs().sum() > 0
    fc = model.state_dict()["fc.weight"].double()
    torch.testing.assert_close(logits.double(), pool3.double() @ fc.T, rtol=1e-4, atol=1e-4)

    # A 1-channel batch (numpy, through the streaming helper) equals the same image as RGB.
    feats = model.extract(iter([gray.numpy()]), batch_size=2)
    assert feats["pool3"].shape == (1, 2048) and feats["pool3"].dtype == np.float32
    np.testing.assert_allclose(feats["pool3"][0], pool3[1].numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(feats["logits_unbiased"][0], logits[1].numpy(), rtol=1e-4, atol=1e-4)


def test_extract_regroups_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """The streaming helper regroups items into forward passes of at most batch_size images."""
    m = FIDInceptionV3()
    seen: list[int] = []

    def fake_forward(x: torch.Tensor) -> dict[str, torch.Tensor]:
        seen.append(len(x))
        first = x.reshape(len(x), -1)[:, :1].float()
        return {"pool3": first.expand(-1, 2048), "logits_unbiased": first.expand(-1, 1008)}

    monkeypatch.setattr(m, "forward", fake_forward)
    imgs = torch.arange(7, dtype=torch.uint8)[:, None, None, None].expand(7, 3, 4, 4)
    feats = m.extract([imgs[:3], imgs[3], imgs[4:].numpy()], batch_size=2)
    assert seen == [2, 2, 2, 1]
    assert feats["pool3"][:, 0].tolist() == list(range(7))
    with pytest.raises(GanforgeError, match="no images"):
        m.extract([], batch_size=2)


# --- weights -------------------------------------------------------------------------------


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("GANFORGE_CACHE", str(root))
    return root


def fake_weights(path: Path, payload: bytes = b"not really inception weights\n") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    return hashlib.sha256(payload).hexdigest()


def test_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GANFORGE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert W.weights_dir() == tmp_path / "xdg" / "ganforge" / "weights"
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path / "gf"))
    assert W.weights_dir() == tmp_path / "gf" / "weights"


def test_file_sha256(tmp_path: Path) -> None:
    sha = fake_weights(tmp_path / "f.bin", b"abc")
    assert W.file_sha256(tmp_path / "f.bin") == sha == hashlib.sha256(b"abc").hexdigest()


def test_explicit_path_wins(cache: Path, tmp_path: Path) -> None:
    sha = fake_weights(tmp_path / "mine.pth")
    fake_weights(cache / "weights" / W.WEIGHTS_FILENAME, b"cached copy")
    got = W.resolve_inception_weights(tmp_path / "mine.pth", sha256=sha, url="file:///nonexistent")
    assert got == tmp_path / "mine.pth"


def test_cached_file_is_used_without_download(cache: Path) -> None:
    sha = fake_weights(cache / "weights" / W.WEIGHTS_FILENAME)
    got = W.resolve_inception_weights(None, sha256=sha, url="file:///nonexistent")
    assert got == cache / "weights" / W.WEIGHTS_FILENAME


def test_wrong_checksum_is_rejected(cache: Path, tmp_path: Path) -> None:
    fake_weights(tmp_path / "bad.pth")
    with pytest.raises(GanforgeError, match="sha256") as info:
        W.resolve_inception_weights(str(tmp_path / "bad.pth"))
    msg = str(info.value)
    assert "\n" not in msg and W.WEIGHTS_SHA256 in msg and "--inception-weights" in msg


def test_missing_explicit_path(cache: Path, tmp_path: Path) -> None:
    with pytest.raises(GanforgeError, match="--inception-weights: no such file") as info:
        W.resolve_inception_weights(tmp_path / "nope.pth")
    assert "\n" not in str(info.value)


def test_download_from_file_url(cache: Path, tmp_path: Path) -> None:
    src = tmp_path / "published.pth"
    sha = fake_weights(src, os.urandom(3 << 20))  # several chunks
    got = W.resolve_inception_weights(None, url=src.as_uri(), sha256=sha, progress=False)
    assert got == cache / "weights" / W.WEIGHTS_FILENAME
    assert got.read_bytes() == src.read_bytes()
    assert sorted(p.name for p in got.parent.iterdir()) == [W.WEIGHTS_FILENAME]  # no temp left
    # Second call finds the cached file (the URL is now unreachable).
    assert W.resolve_inception_weights(None, url="file:///nonexistent", sha256=sha) == got


def test_download_with_wrong_checksum_leaves_nothing(cache: Path, tmp_path: Path) -> None:
    src = tmp_path / "tampered.pth"
    fake_weights(src)
    with pytest.raises(GanforgeError, match="sha256") as info:
        W.resolve_inception_weights(None, url=src.as_uri(), sha256="0" * 64, progress=False)
    assert "\n" not in str(info.value)
    assert list((cache / "weights").iterdir()) == []


def test_offline_and_missing_is_one_line_error(cache: Path, tmp_path: Path) -> None:
    url = (tmp_path / "unreachable.pth").as_uri()
    with pytest.raises(GanforgeError) as info:
        W.resolve_inception_weights(None, url=url, progress=False)
    msg = str(info.value)
    assert "\n" not in msg
    for fact in ("--inception-weights", W.WEIGHTS_FILENAME, "95,628,359", W.WEIGHTS_SHA256):
        assert fact in msg
    assert str(cache / "weights") in msg
    with pytest.raises(GanforgeError, match="--inception-weights"):
        W.resolve_inception_weights(None, download=False)


def test_load_fid_inception_legacy_file(tmp_path: Path) -> None:
    """A legacy (non-zip) serialised state dict, like the published file, loads strictly."""
    state = random_state_dict(reference_shapes(), seed=1)
    path = tmp_path / W.WEIGHTS_FILENAME
    torch.save(state, path, _use_new_zipfile_serialization=False)
    model = W.load_fid_inception(path, sha256=W.file_sha256(path))
    assert not model.training
    assert torch.equal(model.state_dict()["fc.weight"], state["fc.weight"])

    del state["fc.bias"]
    torch.save(state, path, _use_new_zipfile_serialization=False)
    with pytest.raises(GanforgeError, match="does not fit") as info:
        W.load_fid_inception(path, sha256=W.file_sha256(path))
    assert "\n" not in str(info.value)
