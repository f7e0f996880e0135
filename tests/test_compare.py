"""`ganforge compare`: overlaid curves, the options that differ, the latest evaluations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import ganforge
from conftest import TINY
from ganforge.cli.main import main
from ganforge.report.compare import LOSS_CURVES, W_ESTIMATE, curves, load, plotted
from test_report import Page, png_size


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A GAN, a WGAN and a WGAN-GP run on ring8, the WGAN one with an evaluation saved."""
    root = tmp_path_factory.mktemp("compare")
    for model in ("gan", "wgan", "wgan-gp"):
        ganforge.train(model, data="ring8", steps=10, out=root / model, quiet=True, **TINY)
    record = {"provenance": {"date": "2026-12-01T00:00:00+00:00"},
              "results": [{"metric": "w1", "value": 0.75}]}
    (root / "wgan" / "evals").mkdir()
    (root / "wgan" / "evals" / "eval-1.json").write_text(json.dumps(record))
    return [root / "gan", root / "wgan", root / "wgan-gp"]


def test_compare_writes_curves_and_the_table_of_differences(runs: list[Path], tmp_path: Path
                                                           ) -> None:
    assert main(["compare", *map(str, runs), "--out", str(tmp_path / "cmp")]) == 0
    md = (tmp_path / "cmp" / "compare.md").read_text().splitlines()
    head = [c.strip() for c in md[2].strip("|").split("|")]
    assert head[:2] == ["run", "steps"] and {"model", "loss", "n_critic", "w1"} <= set(head)
    assert not {"seed", "data", "out", "batch_size"} & set(head)  # the same in both, or noise
    gan = dict(zip(head, (c.strip() for c in md[4].strip("|").split("|"))))
    wgan = dict(zip(head, (c.strip() for c in md[5].strip("|").split("|"))))
    assert (gan["run"], gan["loss"], gan["steps"], gan["w1"]) == ("gan", "nonsaturating", "10", "")
    assert (wgan["loss"], wgan["n_critic"], wgan["w1"]) == ("wasserstein", "5", "0.75")
    with Image.open(tmp_path / "cmp" / "compare.png") as image:
        assert image.format == "PNG" and image.width > 500 and image.height > 300
    page = Page((tmp_path / "cmp" / "compare.html").read_text())
    assert all(png_size(img["src"])[0] > 0 for img in page.find("img"))


def test_wasserstein_runs_plot_the_critics_estimate(runs: list[Path]) -> None:
    gan, wgan, wgan_gp = (load(p) for p in runs)
    assert curves([gan, gan]) == LOSS_CURVES and curves([gan, wgan]) == (*LOSS_CURVES, W_ESTIMATE)
    assert plotted(gan, W_ESTIMATE, by_time=False)[1].size == 0  # a GAN's d_adv is a BCE
    for path, run in zip(runs[1:], (wgan, wgan_gp)):
        log = [json.loads(line) for line in (path / "log.jsonl").read_text().splitlines()]
        steps, estimate = plotted(run, W_ESTIMATE, by_time=False)
        assert list(steps) == [r["step"] for r in log] == list(range(1, 11))
        assert np.allclose(estimate, [-r["d_adv"] for r in log]) and np.any(estimate != 0)
    # WGAN-GP's D loss carries the penalty, 10 * d_gp: the estimate is the adversarial term alone.
    gp_log = [json.loads(line) for line in (runs[2] / "log.jsonl").read_text().splitlines()]
    assert all(np.isclose(r["d_loss"], r["d_adv"] + 10 * r["d_gp"], atol=1e-5) for r in gp_log)
    assert any(abs(r["d_gp"]) > 1e-4 for r in gp_log)


def test_the_estimate_row_draws_the_wasserstein_runs_only(runs: list[Path], tmp_path: Path
                                                          ) -> None:
    assert main(["compare", *map(str, runs), "--out", str(tmp_path / "three")]) == 0
    assert main(["compare", str(runs[0]), str(runs[0]), "--out", str(tmp_path / "two")]) == 0
    with Image.open(tmp_path / "three" / "compare.png") as three, \
            Image.open(tmp_path / "two" / "compare.png") as two:
        assert three.height / two.height == pytest.approx(3 / 2, rel=0.02)  # a third row
        bottom = np.asarray(three.convert("RGB"))[2 * three.height // 3:, : three.width // 2]

    def drawn(rgb: tuple[int, int, int]) -> bool:
        return bool((np.abs(bottom.astype(int) - rgb).max(axis=-1) < 12).any())

    # matplotlib's C0 (the GAN), C1 (WGAN), C2 (WGAN-GP): the lines and legend of the row
    assert drawn((255, 127, 14)) and drawn((44, 160, 44)) and not drawn((31, 119, 180))


def test_wall_time_starts_at_zero_and_grows(runs: list[Path]) -> None:
    x, y = load(runs[0]).series("d_loss", by_time=True)
    steps, _ = load(runs[0]).series("d_loss", by_time=False)
    assert x[0] == 0 and np.all(np.diff(x) >= 0) and len(x) == len(y) == len(steps) == 10
    assert list(steps) == list(range(1, 11))


@pytest.mark.parametrize("args, says", [
    (["one"], "at least two run folders"),
    (["missing"], "does not exist"),
])
def test_bad_input_is_one_line_exit_2(args: list[str], says: str, runs: list[Path],
                                      tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = [str(runs[0])] if args == ["one"] else [str(runs[0]), str(tmp_path / "missing")]
    assert main(["compare", *paths, "--out", str(tmp_path / "cmp")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and says in err
