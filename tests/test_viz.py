"""Tests for ganforge.viz: grids, image files, loss curves, 1-D density and 2-D toy figures."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

try:
    import ganforge.viz  # noqa: F401
except ModuleNotFoundError:  # not installed: run from the checkout's src/ layout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ganforge.errors import DataError, GanforgeError  # noqa: E402
from ganforge.viz import (  # noqa: E402
    DensityFilmstrip,
    load_image,
    make_evolution_strip,
    make_gif,
    make_grid,
    moving_average,
    numpy_d_fn,
    plot_density_1d,
    plot_losses,
    plot_toy_2d,
    save_grid,
    save_image_grid_rows,
    save_images,
    to_uint8,
)


def _png(path: Path) -> Image.Image:
    """Open a written file, check it is a non-empty PNG, and return it loaded."""
    assert path.is_file() and path.stat().st_size > 0
    img = Image.open(path)
    img.load()
    assert img.format == "PNG"
    return img


def _no_temp_files(folder: Path) -> None:
    """The atomic writer leaves no temp files behind."""
    assert not list(folder.glob("*.tmp"))


# ---------------------------------------------------------------- grids and image files


def test_to_uint8_maps_range_and_clamps() -> None:
    x = torch.tensor([-1.0, 0.0, 1.0, -3.0, 2.0]).reshape(1, 1, 1, 5)
    assert to_uint8(x).flatten().tolist() == [0, 128, 255, 0, 255]
    assert to_uint8(x).dtype == torch.uint8


@pytest.mark.parametrize(
    ("b", "c", "nrow", "padding", "expected"),
    [
        (5, 1, 3, 2, (2 * 6 + 2, 3 * 8 + 2, 1)),  # 3 columns, 2 rows, last row partial
        (3, 3, 8, 2, (6 + 2, 3 * 8 + 2, 3)),  # fewer images than nrow: one row of 3
        (7, 3, 2, 0, (4 * 4, 2 * 6, 3)),  # no padding, 4 rows
        (1, 1, 8, 1, (4 + 2, 6 + 2, 1)),
    ],
)
def test_make_grid_shape(b: int, c: int, nrow: int, padding: int, expected: tuple) -> None:
    grid = make_grid(torch.zeros(b, c, 4, 6), nrow=nrow, padding=padding)
    assert tuple(grid.shape) == expected
    assert grid.dtype == torch.uint8


def test_make_grid_places_pixels_and_padding() -> None:
    h, w, p = 4, 6, 2
    images = -torch.ones(5, 3, h, w)
    images[4, 1, 1, 2] = 1.0  # image 4 -> row 1, column 1 in a 3-column grid; green channel
    grid = make_grid(images, nrow=3, padding=p, pad_value=1.0)
    top, left = 1 * (h + p) + p, 1 * (w + p) + p
    assert grid[top + 1, left + 2].tolist() == [0, 255, 0]
    assert grid[top, left].tolist() == [0, 0, 0]  # -1 -> 0
    assert grid[0, 0].tolist() == [255, 255, 255]  # padding is white
    assert (grid[top : top + h, left + w + p : left + 2 * w + p] == 255).all()  # empty cell
    dark = make_grid(images, nrow=3, padding=p, pad_value=-1.0)
    assert dark[0, 0].tolist() == [0, 0, 0]


def test_make_grid_rejects_bad_shapes() -> None:
    with pytest.raises(GanforgeError, match=r"with C 1 or 3, got \(2, 2, 4, 4\)"):
        make_grid(torch.zeros(2, 2, 4, 4))
    with pytest.raises(GanforgeError, match="no images to draw: the batch is empty"):
        make_grid(torch.zeros(0, 3, 4, 4))
    assert tuple(make_grid(torch.zeros(3, 4, 4), padding=0).shape) == (4, 4, 3)  # single image


@pytest.mark.parametrize(("c", "mode"), [(1, "L"), (3, "RGB")])
def test_save_grid_png_roundtrip(tmp_path: Path, c: int, mode: str) -> None:
    images = torch.rand(10, c, 8, 5) * 2 - 1
    path = save_grid(images, tmp_path / "deep" / "er" / "grid.png", nrow=4)
    img = _png(path)
    grid = make_grid(images, nrow=4)
    assert img.mode == mode
    assert img.size == (4 * 7 + 2, 3 * 10 + 2)  # (width, height)
    assert np.array_equal(np.asarray(img).reshape(grid.shape), grid.numpy())


def test_save_grid_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "grid.png"
    save_grid(-torch.ones(1, 1, 4, 4), path, nrow=1)
    save_grid(torch.ones(2, 3, 4, 4), path, nrow=2)
    img = _png(path)
    assert img.mode == "RGB" and img.size == (2 * 6 + 2, 6 + 2)
    _no_temp_files(tmp_path)
    plain = tmp_path / "plain"
    plain.touch()  # the atomic writer's file gets the same permissions as an ordinary one
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_save_images_and_load_image_roundtrip(tmp_path: Path) -> None:
    images = torch.rand(3, 3, 5, 7) * 2 - 1
    paths = save_images(images, tmp_path / "samples", prefix="s", start=10)
    assert [p.name for p in paths] == ["s_000010.png", "s_000011.png", "s_000012.png"]
    back = load_image(paths[1])
    assert back.shape == (3, 5, 7)
    assert torch.allclose(back, images[1], atol=1.0 / 127.5 + 1e-6)
    gray = save_images(torch.zeros(2, 1, 4, 4), tmp_path / "samples", prefix="g")
    assert _png(gray[0]).mode == "L"
    assert load_image(gray[0]).shape == (1, 4, 4)
    assert load_image(gray[0], channels=3).shape == (3, 4, 4)


def test_load_image_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="image not found: .*missing.png"):
        load_image(tmp_path / "missing.png")
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    with pytest.raises(DataError, match="cannot read image .*junk.png"):
        load_image(junk)


def test_save_image_grid_rows_with_labels(tmp_path: Path) -> None:
    rows = [torch.zeros(4, 3, 8, 8), torch.ones(2, 3, 8, 8)]
    plain = _png(save_image_grid_rows(rows, tmp_path / "rows.png"))
    assert plain.size == (4 * 10 + 2, 2 * 10 + 2)
    labelled = _png(save_image_grid_rows(rows, tmp_path / "rows_l.png", labels=["a", "class 2"]))
    assert labelled.height == plain.height and labelled.width > plain.width
    with pytest.raises(GanforgeError, match="got 1 labels for 2 rows"):
        save_image_grid_rows(rows, tmp_path / "x.png", labels=["one"])
    with pytest.raises(GanforgeError, match=r"all rows need the same \(C, H, W\)"):
        save_image_grid_rows([torch.zeros(1, 3, 8, 8), torch.zeros(1, 1, 8, 8)], tmp_path / "y")


# ---------------------------------------------------------------- loss curves


def test_moving_average() -> None:
    out = moving_average(np.array([1.0, 3.0, 5.0, 7.0]), 2)
    assert np.allclose(out, [1.0, 2.0, 4.0, 6.0])
    assert np.allclose(moving_average(np.array([2.0]), 10), [2.0])


def test_plot_losses_single_record(tmp_path: Path) -> None:
    img = _png(plot_losses([{"step": 0, "d_loss": 1.3, "g_loss": 0.7}], tmp_path / "a/loss.png"))
    assert img.mode == "RGB" and img.width > 100


def test_plot_losses_many_records_with_d_panel(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    records = [
        {
            "step": i,
            "d_loss": 1.0 + rng.normal(0, 0.1),
            "g_loss": 0.8 + rng.normal(0, 0.1),
            "d_real": 0.6,
            "d_fake": 0.4,
            "lr": 2e-4,
            **({"gp": 0.1} if i % 5 == 0 else {}),
        }
        for i in range(3000)
    ]
    records[7]["d_loss"] = float("nan")  # a bad value is skipped, not drawn
    path = tmp_path / "loss.png"
    plain = _png(plot_losses([{"step": 0, "d_loss": 1.0}], path))
    both = _png(plot_losses(records, path))  # overwrites the first
    assert both.mode == "RGB" and both.height > plain.height  # second panel for D outputs
    _no_temp_files(tmp_path)


def _bold_line(img: np.ndarray, rgb: tuple[int, int, int]) -> tuple[int, np.ndarray]:
    """The image row holding most pixels of exactly `rgb` (a horizontal line), and their columns."""
    ys, xs = np.nonzero((img == rgb).all(-1))
    row = int(np.bincount(ys).argmax())
    return row, np.sort(xs[ys == row])


def test_plot_losses_draws_each_term_at_its_value_and_skips_bad_values(tmp_path: Path) -> None:
    records: list[dict[str, float]] = [{"step": i, "d_loss": 1.0, "g_loss": 3.0, "gp": 2.0}
                                       for i in range(200)]
    records[100]["d_loss"] = float("nan")  # skipped: the averaged line stays unbroken
    records[150]["g_loss"] = float("inf")
    img = np.asarray(_png(plot_losses(records, tmp_path / "loss.png")))
    lines = {key: _bold_line(img, rgb) for key, rgb in
             (("d_loss", (31, 119, 180)), ("g_loss", (255, 127, 14)),  # tab:blue, tab:orange
              ("gp", (148, 103, 189)))}  # C4, the first colour for extra terms
    d_row, g_row, gp_row = (lines[k][0] for k in ("d_loss", "g_loss", "gp"))
    assert g_row < gp_row < d_row  # higher values higher up
    assert abs(gp_row - (d_row + g_row) / 2) <= 1  # a linear axis: 2 midway between 1 and 3
    for _, cols in lines.values():  # each line crosses the whole plot, without a gap
        assert len(cols) > 0.7 * img.shape[1] and np.all(np.diff(cols) == 1)


def test_plot_losses_errors(tmp_path: Path) -> None:
    with pytest.raises(GanforgeError, match="needs at least one log record"):
        plot_losses([], tmp_path / "x.png")
    with pytest.raises(GanforgeError, match="no numeric loss terms in the log records"):
        plot_losses([{"step": 1, "epoch": 0}], tmp_path / "x.png")


# ---------------------------------------------------------------- 1-D density figure and GIFs


def _sigmoid_d(xs: np.ndarray) -> np.ndarray:
    """A toy discriminator: prefers x near 4."""
    return 1.0 / (1.0 + np.exp(xs - 4.0))


def test_plot_density_1d_variants(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    real, fake = rng.normal(4, 0.5, 500), rng.normal(0, 1, 500)
    a = _png(plot_density_1d(real, fake, _sigmoid_d, tmp_path / "d/a.png", title="step 0"))
    assert a.mode == "RGB"
    xs = np.linspace(-3, 7, 50)
    _png(plot_density_1d(real, fake, (xs, _sigmoid_d(xs)), tmp_path / "b.png", "pair"))
    _png(plot_density_1d(real, np.full(100, 2.0), None, tmp_path / "c.png", "collapsed"))
    torch_d = numpy_d_fn(torch.nn.Linear(1, 1))
    _png(plot_density_1d(real, fake, torch_d, tmp_path / "e.png", "torch D"))
    with pytest.raises(GanforgeError, match="d_fn returned 3 values for 400 inputs"):
        plot_density_1d(real, fake, lambda x: x[:3], tmp_path / "f.png", "bad d")


def _frames(folder: Path, n: int) -> list[Path]:
    """n distinct solid-colour RGB frames on disk."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"f{i}.png"
        Image.new("RGB", (40, 30), (i * 60 % 256, 100, 255 - i * 60 % 256)).save(p)
        paths.append(p)
    return paths


def test_make_gif_frame_count(tmp_path: Path) -> None:
    frames = _frames(tmp_path / "frames", 4)
    gif = make_gif(frames, tmp_path / "out" / "anim.gif", duration_ms=50)
    with Image.open(gif) as img:
        assert img.format == "GIF" and img.n_frames == 4 and img.size == (40, 30)
    make_gif(frames[:2], gif)  # overwrite
    with Image.open(gif) as img:
        assert img.n_frames == 2
    with pytest.raises(GanforgeError, match="no frames given"):
        make_gif([], tmp_path / "none.gif")


def test_make_evolution_strip(tmp_path: Path) -> None:
    frames = _frames(tmp_path / "frames", 5)
    strip = _png(make_evolution_strip(frames, tmp_path / "strip.png", n=3, padding=4))
    assert strip.size == (3 * 44 + 4, 30 + 8)
    assert strip.getpixel((4 + 2 * 44 + 1, 10)) == Image.open(frames[-1]).getpixel((0, 0))
    few = _png(make_evolution_strip(frames[:2], tmp_path / "few.png", n=6, padding=0))
    assert few.size == (80, 30)


def test_density_filmstrip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    real = rng.normal(4, 0.5, 300)
    film = DensityFilmstrip(tmp_path / "film")
    for step, mu in zip([0, 100, 200], [0.0, 2.0, 3.8]):
        film.add(real, rng.normal(mu, 1.0, 300), _sigmoid_d, step)
    assert len(film.frames) == 3 and film.xlim is not None
    with Image.open(film.save_gif(tmp_path / "film.gif")) as img:
        assert img.n_frames == 3
    assert _png(film.save_strip(tmp_path / "film.png", n=3)).mode == "RGB"


# ---------------------------------------------------------------- 2-D toy figure


def test_plot_toy_2d(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    real, fake = rng.normal(0, 1, (400, 2)), rng.normal(1, 0.5, (300, 2))
    no_d = _png(plot_toy_2d(real, fake, None, tmp_path / "t/none.png", "no D"))
    assert no_d.mode == "RGB"

    def d_fn(x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(x**2).sum(axis=1) + 1.0))

    with_d = _png(plot_toy_2d(real, fake, d_fn, tmp_path / "t/d.png", "D", lim=3.0))
    assert with_d.size == no_d.size
    critic = _png(plot_toy_2d(real, fake, lambda x: 5.0 * x[:, 0], tmp_path / "c.png", "W"))
    assert critic.mode == "RGB"
    _png(plot_toy_2d(real, fake, lambda x: np.full(len(x), 3.0), tmp_path / "k.png", "const"))
    box = ((-2.0, 2.0), (-1.0, 3.0))
    _png(plot_toy_2d(real, fake, numpy_d_fn(torch.nn.Linear(2, 1)), tmp_path / "m.png", lim=box))


def _axes_box(img: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) pixel rows/columns of a square axes' black frame."""
    dark = img.max(-1) < 60
    rows = np.flatnonzero(dark.sum(1) > 0.4 * dark.shape[1])
    cols = np.flatnonzero(dark.sum(0) > 0.4 * dark.shape[0])
    top, bottom, left = int(rows.min()), int(rows.max()), int(cols.min())
    return top, bottom, left, left + bottom - top


def test_plot_toy_2d_puts_points_and_d_where_they_belong(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    real = rng.normal(0, 0.05, (300, 2)) + [-2.0, -1.0]
    fake = np.vstack([rng.normal(0, 0.05, (300, 2)) + [2.0, -1.0], [[np.nan, 0.0]]])

    def colour_at(img: np.ndarray, x: float, y: float) -> np.ndarray:
        top, bottom, left, right = _axes_box(img)  # the data box is [-3, 3]^2
        col = left + (x + 3) / 6 * (right - left)
        row = bottom - (y + 3) / 6 * (bottom - top)
        return img[int(round(row)), int(round(col))].astype(int)

    plain = np.asarray(_png(plot_toy_2d(real, fake, None, tmp_path / "p.png", lim=3.0)))
    assert colour_at(plain, -2, -1).max() < 110  # real: black
    r, g, b = colour_at(plain, 2, -1)
    assert r > g + 60 and r > b + 60  # generated: red
    assert colour_at(plain, 0, 1).min() > 245 and colour_at(plain, 2, 1).min() > 245  # empty

    def d_fn(x: np.ndarray) -> np.ndarray:  # D(x) = 0 on the left, 1 on the right
        return 1.0 / (1.0 + np.exp(-5.0 * x[:, 0]))

    with_d = np.asarray(_png(plot_toy_2d(real, fake, d_fn, tmp_path / "d.png", lim=3.0)))
    r, g, b = colour_at(with_d, 2.5, 1)
    assert b > r + 60  # D near 1: dark blue
    assert colour_at(with_d, -2.5, 1).min() > 230  # D near 0: nearly white
    assert colour_at(with_d, -2, -1).max() < 110  # the points are drawn over D


def test_plot_toy_2d_draws_mode_centres_and_3_sigma_circles(tmp_path: Path) -> None:
    real, fake = np.array([[-2.5, -2.5]]), np.array([[2.5, -2.5]])
    modes = (np.array([[0.0, 0.0], [-1.5, 1.5]]), 0.4)  # circles of radius 1.2

    def at(img: np.ndarray, x: float, y: float) -> np.ndarray:
        top, bottom, left, right = _axes_box(img)  # the data box is [-3, 3]^2
        col, row = left + (x + 3) / 6 * (right - left), bottom - (y + 3) / 6 * (bottom - top)
        return img[int(round(row)) - 1 : int(round(row)) + 2,
                   int(round(col)) - 1 : int(round(col)) + 2].reshape(-1, 3).astype(int)

    def green(px: np.ndarray) -> bool:
        return bool(((px[:, 1] > px[:, 0] + 40) & (px[:, 1] > px[:, 2] + 40)).any())

    plain = np.asarray(_png(plot_toy_2d(real, fake, None, tmp_path / "p.png", lim=3.0)))
    marked = np.asarray(_png(plot_toy_2d(real, fake, None, tmp_path / "m.png", lim=3.0,
                                         modes=modes)))
    for x, y in [(1.2, 0.0), (0.0, -1.2), (-1.5, 2.7), (0.0, 0.0), (-1.5, 1.5)]:
        assert green(at(marked, x, y)) and not green(at(plain, x, y)), (x, y)
    assert not green(at(marked, 0.6, 0.0))  # inside a circle, off the centre: empty


def test_plot_toy_2d_rejects_bad_points(tmp_path: Path) -> None:
    with pytest.raises(GanforgeError, match=r"needs real points shaped \(N, 2\), got \(5, 3\)"):
        plot_toy_2d(np.zeros((5, 3)), np.zeros((5, 2)), None, tmp_path / "x.png")
