"""Property-based fuzzing of the paired and unpaired translation loaders and of the config loader
(`--config FILE.yaml` read by `load_yaml`, then checked by `make_config`): every input ends in
data or a one-line `GanforgeError`, never another exception. Run with `-s` to see the counts.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ganforge.config import load_yaml
from ganforge.configure import model_config, preset_values, valid_names, variant_of
from ganforge.data.translation_load import load_paired, load_unpaired
from ganforge.errors import GanforgeError
from untrusted import damaged_files, fuzz_settings, image_bytes, outcome, report  # noqa: F401 (report: fixture)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow on corrupt images
FUZZ = fuzz_settings(150)
FEW = fuzz_settings(50)
CROP = 8  # load size 9: decoding stays cheap


# ----- paired and unpaired images ----------------------------------------------------------------
#: Pairs twice as wide as high, and shapes that are not (too narrow, square, one pixel, tall).
IMAGES = [image_bytes(f, m, s, value=90) for f, m, s in [
    ("PNG", "RGB", (16, 8)), ("JPEG", "RGB", (32, 16)), ("PNG", "L", (20, 10)),
    ("PNG", "RGBA", (12, 6)), ("GIF", "P", (8, 4)), ("PNG", "RGB", (15, 8)),
    ("JPEG", "RGB", (16, 16)), ("BMP", "RGB", (1, 1)), ("PNG", "I;16", (8, 16)),
    ("WEBP", "RGB", (10, 5))]]
EXTENSIONS = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".txt", ""]
#: A real image, possibly cut and with bytes changed, or random bytes, under some name.
IMAGE_FILES = damaged_files(IMAGES, EXTENSIONS, always_cut=False, changes=2, random_size=128)


def _write(folder: Path, files: list[tuple[str, bytes]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, (ext, data) in enumerate(files):
        (folder / f"f{i}{ext}").write_bytes(data)


@FEW
@given(files=st.lists(IMAGE_FILES, max_size=4), split=st.sampled_from(["train", "test", "x"]),
       direction=st.sampled_from(["AtoB", "BtoA", "up"]), nested=st.booleans())
def test_fuzz_paired_loader(files: list[tuple[str, bytes]], split: str, direction: str,
                            nested: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _write(Path(tmp) / "train" if nested else Path(tmp), files)
        result = outcome("paired loader", lambda: load_paired(tmp, split, direction, CROP))
        if not isinstance(result, GanforgeError):
            assert result.a.shape == result.b.shape and result.a.shape[1:] == (3, 9, 9)
            assert len(result.a) + result.skipped <= len(files)


@FEW
@given(a=st.lists(IMAGE_FILES, max_size=3), b=st.lists(IMAGE_FILES, max_size=3),
       missing=st.sampled_from(["", "trainA", "trainB"]), channels=st.sampled_from([1, 3, 2]))
def test_fuzz_unpaired_loader(a: list[tuple[str, bytes]], b: list[tuple[str, bytes]],
                              missing: str, channels: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, files in (("trainA", a), ("trainB", b)):
            if name != missing:
                _write(Path(tmp) / name, files)
        result = outcome("unpaired loader",
                         lambda: load_unpaired(tmp, "train", "AtoB", CROP, channels=channels))
        if not isinstance(result, GanforgeError):
            assert result.a.shape[1:] == result.b.shape[1:] == (channels, 9, 9)


# ----- the config loader -------------------------------------------------------------------------
MODELS = ["gan", "dcgan", "wgan-gp", "infogan", "pix2pix", "cyclegan"]
VARIANT = {m: variant_of(preset_values(m)) for m in MODELS}
NAMES = sorted({n for v in VARIANT.values() for n in valid_names(v)} | {"learning_rate", "x-y"})
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                    st.sampled_from(["mnist", "facades", "linear", "rollback", "1e-4", "64"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6)


def _load_config(path: Path, model: str) -> object:
    """What `ganforge train MODEL --config PATH` does with the file (train_cmd.build_config)."""
    values = load_yaml(path)
    values.pop("model", None)
    return model_config(model, values, f"config file '{path}'")


@FUZZ
@given(model=st.sampled_from(MODELS),
       values=st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=4))
def test_fuzz_config_structures(model: str, values: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.yaml"
        path.write_text(yaml.safe_dump(values))
        result = outcome("config loader (structures)", lambda: _load_config(path, model))
        if not isinstance(result, GanforgeError):
            assert {k.replace("-", "_") for k in values} <= set(valid_names(VARIANT[model]))


@FUZZ
@given(raw=st.one_of(st.binary(max_size=200), st.text(
    alphabet=st.sampled_from(list("ab:-[]{}!&*|>'\"#%@ \n\t0123456789.,?")), max_size=200)))
def test_fuzz_config_text(raw: bytes | str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.yaml"
        if isinstance(raw, bytes):
            path.write_bytes(raw)
        else:
            path.write_text(raw)
        outcome("config loader (text)", lambda: _load_config(path, "gan"))


CONFIG_CORPUS = {
    "python tag": "batch-size: !!python/object/apply:os.system ['true']\n",
    "nested 100000 deep": "batch-size: " + "[" * 100_000,
    "an alias bomb": "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nbatch-size: [*b, *b, *b]\n",
    "not UTF-8": "batch-size: \udcff\n",
    "a huge integer": "batch-size: " + "9" * 5000 + "\n",
    "NaN learning rate": "lr: .nan\n",
    "a key that is a list": "? [1, 2]\n: 3\n",
}


@pytest.mark.parametrize("case", CONFIG_CORPUS)
def test_corpus_config(case: str, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(CONFIG_CORPUS[case].encode("utf-8", "surrogateescape"))
    result = outcome("config corpus", lambda: _load_config(path, "gan"))
    assert isinstance(result, GanforgeError), case
