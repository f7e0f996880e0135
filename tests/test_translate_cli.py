"""`Run.translate`, `ganforge translate` and `ganforge sample` on tiny pix2pix and cyclegan runs."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
import torch
from PIL import Image

import ganforge
from ganforge.api import Run
from ganforge.cli.main import build_parser, main
from ganforge.cli.translate_cmd import output_names
from ganforge.data.folder import decode_image
from ganforge.errors import ConfigError
from ganforge.viz.grid import to_uint8

QUIET = {"log_every": 1000, "monitor_every": 0}


@pytest.fixture(scope="module")
def cyclegan(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """mnist-style: 1-channel 32x32 domains, both directions."""
    out = tmp_path_factory.mktemp("runs") / "cyclegan"
    return ganforge.train("cyclegan", data="mnist-style", image_size=32, width=8, steps=3,
                          blocks=1, out=str(out), quiet=True, **QUIET)


@pytest.fixture(scope="module")
def pix2pix(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """facades labels -> photo: RGB 64x64, AtoB only."""
    out = tmp_path_factory.mktemp("runs") / "pix2pix"
    return ganforge.train("pix2pix", data="facades", direction="BtoA", image_size=64, width=8,
                          steps=2, out=str(out), quiet=True, **QUIET)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of inputs: RGB JPEG, a subfolder with a gray PNG and an RGBA PNG, one corrupt."""
    root = tmp_path_factory.mktemp("inputs")
    (root / "sub").mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)).save(root / "a.jpg")
    Image.fromarray(rng.integers(0, 256, (20, 20), dtype=np.uint8)).save(root / "sub" / "b.png")
    rgba = rng.integers(0, 256, (70, 60, 4), dtype=np.uint8)
    Image.fromarray(rgba, mode="RGBA").save(root / "sub" / "c d.png")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    return root


READABLE = ["a.jpg", "sub/b.png", "sub/c d.png"]


def _runs(request: pytest.FixtureRequest, name: str) -> Run:
    return request.getfixturevalue(name)


def _main(args: list[object], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse errors
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip()


# ----- Run.translate -----

@pytest.mark.parametrize(("name", "direction"),
                         [("cyclegan", "AtoB"), ("cyclegan", "BtoA"), ("pix2pix", "AtoB")])
def test_run_translate_equals_the_variant(name: str, direction: str,
                                          request: pytest.FixtureRequest) -> None:
    run = _runs(request, name)
    x = torch.rand(5, *run.translation_shape(direction), generator=torch.Generator()
                   .manual_seed(0)) * 2 - 1
    expected = run.variant.translate(x, run.nets, direction)
    assert torch.equal(run.translate(x, direction), expected)
    torch.testing.assert_close(run.translate(x, direction, batch_size=2), expected)  # batched
    assert run.translate(x[:0], direction).shape == (0, *expected.shape[1:])


def test_run_translate_refuses_wrong_channels_and_directions(cyclegan: Run, pix2pix: Run
                                                             ) -> None:
    with pytest.raises(ConfigError, match=r"takes images shaped \(B, 1, H, W\).*got \(2, 3, "):
        cyclegan.translate(torch.zeros(2, 3, 32, 32))
    with pytest.raises(ConfigError, match=r"cannot translate 'BtoA'; choose from: AtoB "
                                          r"\(labels -> photo\)$"):
        pix2pix.translate(torch.zeros(1, 3, 64, 64), "BtoA")


# ----- ganforge translate -----

def _pngs(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.png"))


def _srcs(index: Path) -> list[str]:
    return [unquote(s) for s in re.findall(r'<img src="([^"]+)"', index.read_text())]


@pytest.mark.parametrize(("name", "direction"),
                         [("cyclegan", "AtoB"), ("cyclegan", "BtoA"), ("pix2pix", "AtoB")])
def test_translate_a_folder(name: str, direction: str, images: Path, tmp_path: Path,
                            request: pytest.FixtureRequest,
                            capsys: pytest.CaptureFixture[str]) -> None:
    run = _runs(request, name)
    c, h, w = run.translation_shape(direction)
    out = tmp_path / "out"
    code, stdout, err = _main(["translate", run.dir.root, "--input", images, "--out", out,
                               "--direction", direction, "--batch-size", 2], capsys)
    assert (code, err) == (0, "")
    assert "translated 3 images, skipped 1 unreadable: broken.jpg\n" in stdout
    assert _pngs(out) == ["a.png", "sub/b.png", "sub/c d.png"]
    c_out = run.translate(torch.zeros(1, c, h, w), direction).shape[1]
    for name_ in _pngs(out):
        with Image.open(out / name_) as img:  # the model's resolution and channels
            assert img.size == (w, h) and img.mode == ("L" if c_out == 1 else "RGB")
    # index.html: every input next to its output, each path relative and existing
    srcs = _srcs(out / "index.html")
    assert all((out / s).resolve().is_file() for s in srcs)
    assert [(out / s).resolve() for s in srcs[0::2]] == [(images / f).resolve() for f in READABLE]
    assert srcs[1::2] == _pngs(out)


def test_translate_writes_what_run_translate_gives(cyclegan: Run, images: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A single file: decoded as folder data is, translated, saved losslessly as PNG."""
    code, stdout, _ = _main(["translate", cyclegan.dir.root, "--input", images / "a.jpg",
                             "--out", tmp_path], capsys)
    assert code == 0 and stdout.startswith("translated 1 image\n")
    x = torch.from_numpy(np.array(decode_image(images / "a.jpg", 32, 1))).float()[None] / 127.5 - 1
    expected = to_uint8(cyclegan.translate(x))[0, 0].numpy()
    assert np.array_equal(np.asarray(Image.open(tmp_path / "a.png")), expected)
    src, dst = _srcs(tmp_path / "index.html")
    assert (tmp_path / src).resolve() == (images / "a.jpg").resolve() and dst == "a.png"


def test_output_names_keep_colliding_suffixes(tmp_path: Path) -> None:
    files = [tmp_path / "a.jpg", tmp_path / "a.png", tmp_path / "s" / "b.tif"]
    assert output_names(tmp_path, files) == [Path("a_jpg.png"), Path("a_png.png"),
                                             Path("s/b.png")]


def test_index_page_is_self_contained(cyclegan: Run, images: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(["translate", cyclegan.dir.root, "--input", images, "--out", tmp_path],
                 capsys)[0] == 0
    page = (tmp_path / "index.html").read_text()
    assert 'name="viewport"' in page and "<style>" in page
    assert "<script" not in page and "http" not in page and "Skipped 1 unreadable" in page


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("runs") / "gan"
    return ganforge.train("gan", data="ring8", steps=1, hidden=8, latent_dim=2, out=str(out),
                          quiet=True, **QUIET)


def _bad_inputs(tmp: Path, images: Path) -> dict[str, tuple[list[object], str]]:
    (tmp / "only-broken").mkdir()
    (tmp / "only-broken" / "x.png").write_bytes(b"junk")
    (tmp / "empty").mkdir()
    (tmp / "a-file").write_text("")
    return {
        "missing input": (["--input", tmp / "nope"], r"--input \S+ does not exist"),
        "nothing readable": (["--input", tmp / "only-broken"],
                             r"none of the 1 image files under \S+ could be read; nothing"),
        "unreadable file": (["--input", tmp / "only-broken" / "x.png"], r"is not a readable image"),
        "empty folder": (["--input", tmp / "empty"], r"no image files \(jpg, .*\) found under"),
        "out is input": (["--input", images, "--out", images],
                         r"--out \S+ is the input \S+; translate never writes into its input"),
        "out inside input": (["--input", images, "--out", images / "sub" / "new"],
                             r"is inside the input folder"),
        "overwrite": (["--input", images / "sub" / "b.png", "--out", images / "sub"],
                      r"would overwrite the input image \S+b\.png"),
        "out is a file": (["--input", images, "--out", tmp / "a-file"], r"is a file"),
        "direction": (["--input", images, "--direction", "sideways"],
                      r"cannot translate 'sideways'; choose from: AtoB \(mnist -> "
                      r"bold-inverted\), BtoA \(bold-inverted -> mnist\)"),
        "batch size": (["--input", images, "--batch-size", "0"], r"--batch-size must be positive"),
        "no --input": ([], r"the following arguments are required: --input"),
    }


BAD = ["missing input", "nothing readable", "unreadable file", "empty folder", "out is input",
       "out inside input", "overwrite", "out is a file", "direction", "batch size", "no --input"]


@pytest.mark.parametrize("case", BAD)
def test_bad_translate_input_is_one_line(case: str, cyclegan: Run, images: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    args, pattern = _bad_inputs(tmp_path, images)[case]
    if "--out" not in args:
        args = [*args, "--out", tmp_path / "out"]
    before = sorted(images.rglob("*"))
    code, _, err = _main(["translate", cyclegan.dir.root, *args], capsys)
    assert code == 2 and "\n" not in err and "Traceback" not in err
    assert re.search(pattern, err), err
    assert sorted(images.rglob("*")) == before and not (tmp_path / "out").exists()


def test_translate_needs_a_translation_model(gan_run: Run, pix2pix: Run, images: Path,
                                             tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _main(["translate", gan_run.dir.root, "--input", images, "--out", tmp_path],
                         capsys)
    assert code == 2 and "\n" not in err
    assert re.search(r"run '\S+' \(gan\) is not a translation model; translate needs cyclegan, "
                     r"pix2pix or stargan$", err), err
    code, _, err = _main(["translate", pix2pix.dir.root, "--input", images, "--out", tmp_path,
                          "--direction", "BtoA"], capsys)
    assert code == 2 and err.endswith("cannot translate 'BtoA'; choose from: AtoB (labels -> "
                                      "photo)")


# ----- ganforge sample, list -----

@pytest.mark.parametrize(("name", "n", "rows", "cols"),
                         [("cyclegan", None, 8, 6), ("pix2pix", 3, 3, 3)])
def test_sample_draws_the_translation_figure(name: str, n: int | None, rows: int, cols: int,
                                             tmp_path: Path, request: pytest.FixtureRequest,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    run = _runs(request, name)
    out = tmp_path / "figure.png"
    extra = [] if n is None else ["--n", n]
    code, stdout, _ = _main(["sample", run.dir.root, "--out", out, *extra], capsys)
    assert code == 0 and f"figure of {rows} test examples" in stdout
    _, h, w = run.translation_shape()
    with Image.open(out) as img:  # make_grid: 2-pixel padding around every cell
        assert img.size == (cols * (w + 2) + 2, rows * (h + 2) + 2)


@pytest.mark.parametrize("flag", [["--interpolate"], ["--class", "3"], ["--traverse"]])
def test_sample_noise_flags_on_a_translation_run(flag: list[str], cyclegan: Run, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _main(["sample", cyclegan.dir.root, "--out", tmp_path / "x.png", *flag],
                         capsys)
    assert code == 2 and "\n" not in err
    assert re.search(r"\(cyclegan\) translates images, it has no noise or classes: drop "
                     r"--interpolate, --class and --traverse", err), err


def test_list_and_help_show_translation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    noise, translation = out.split("translation models (ganforge translate RUN")
    assert "  cyclegan " in translation.split("losses:")[0] and "  pix2pix " in translation
    assert "  cyclegan " not in noise and "  dcgan " in noise
    assert all(f"  {d} " in out for d in ("facades", "horse2zebra", "mnist-style"))
    assert "translate" in build_parser([]).format_help()
