"""`ganforge report`: one self-contained HTML page per run, written at the end of training."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

import ganforge
from conftest import TINY
from ganforge.cli.main import main
from ganforge.monitor.events import d_wins_event
from ganforge.report import write_report
from ganforge.report.collect import figure_caption


class Page(HTMLParser):
    """The tags and attributes a self-contained page is checked on."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.data: dict[str, str] = {}  # id of a <script> -> its text
        self._script: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        self._script = a.get("id", "") if tag == "script" else None

    def handle_data(self, data: str) -> None:
        if self._script:
            self.data[self._script] = self.data.get(self._script, "") + data

    def find(self, tag: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag]


def png_size(uri: str) -> tuple[int, int]:
    """The size of the PNG a data: URI holds (fails unless it is one)."""
    assert uri.startswith("data:image/png;base64,"), uri[:40]
    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as image:
        assert image.format == "PNG"
        image.load()
        return image.size


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny finished DCGAN run with a sample grid every 2 steps."""
    out = tmp_path_factory.mktemp("report") / "run"
    ganforge.train("dcgan", data="mnist", steps=6, sample_every=2, out=out, quiet=True,
                   **TINY)
    return out


def test_training_writes_a_self_contained_report(run_dir: Path) -> None:
    page = Page((run_dir / "report.html").read_text(encoding="utf-8"))
    images = page.find("img")
    assert len(images) >= 2  # the loss curve and the shown sample grid
    for img in images:
        width, height = png_size(img["src"])
        assert width > 0 and height > 0
    for _, attrs in page.tags:
        for key in ("src", "href"):
            assert not re.match(r"\s*(https?:)?//", attrs.get(key, "")), attrs[key][:60]
    assert not [s for s in page.find("script") if "src" in s] and not page.find("link")
    assert any(a.get("name") == "viewport" for a in page.find("meta"))


def test_the_slider_has_one_position_per_sample_picture(run_dir: Path) -> None:
    page = Page((run_dir / "report.html").read_text(encoding="utf-8"))
    pictures = sorted((run_dir / "samples").glob("*.png"))
    assert len(pictures) == 4  # steps 2, 4, 6 and the end of epoch 0
    (slider,) = [a for a in page.find("input") if a.get("type") == "range"]
    assert int(slider["min"]) == 0 and int(slider["max"]) + 1 == len(pictures)
    frames = json.loads(page.data["frames"])
    assert [f["label"] for f in frames] == ["step 2", "step 4", "step 6", "epoch 0 (step 6)"]
    assert all(png_size(f["src"])[0] > 0 for f in frames)
    (shown,) = [a for a in page.find("img") if a.get("id") == "frame"]
    assert shown["src"] == frames[-1]["src"]  # the last grid is shown first


def test_monitor_events_and_evaluations_are_shown_with_advice_and_provenance(
        run_dir: Path, tmp_path: Path) -> None:
    run = shutil.copytree(run_dir, tmp_path / "run")
    event = d_wins_event(5, "the discriminator is winning (test)")
    with (run / "log.jsonl").open("a") as f:
        f.write(json.dumps({"step": 5, "event": event.to_dict()}) + "\n")
    record = {"provenance": {"real": "mnist", "real_split": "test", "seed": 0,
                             "date": "2026-12-01T00:00:00+00:00"},
              "results": [{"metric": "fid", "value": 12.5, "n_real": 100, "n_fake": 100,
                           "features": "mnist-classifier", "features_sha256": "abcdef0123456789",
                           "resize_method": "none"}]}
    (run / "evals").mkdir()
    (run / "evals" / "eval-1.json").write_text(json.dumps(record))
    text = write_report(run).read_text(encoding="utf-8")
    assert "the discriminator is winning (test)" in text
    assert "one-sided label smoothing (--label-smoothing 0.9)" in text
    assert "evals/eval-1.json" in text and "12.5" in text and "abcdef012345" in text
    assert "mnist-classifier" in text


def test_translation_figures_are_captioned() -> None:
    assert figure_caption("pix2pix").startswith("input | output | target")
    assert "rec_A" in figure_caption("cyclegan")
    assert figure_caption("unconditional") == ""


@pytest.mark.parametrize("damage", ["not_a_run", "sample", "eval", "config"])
def test_bad_input_is_one_line_and_exit_2(damage: str, run_dir: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    run = shutil.copytree(run_dir, tmp_path / "run")
    culprit = {"not_a_run": "config.yaml", "sample": "step_0000004.png", "eval": "eval.json",
               "config": "config.yaml"}[damage]
    if damage == "not_a_run":
        (run / "config.yaml").unlink()
    elif damage == "sample":
        (run / "samples" / "step_0000004.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    elif damage == "eval":
        (run / "eval.json").write_text("{not json")
    else:
        (run / "config.yaml").write_text("model: [unclosed")
    assert main(["report", str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and culprit in err, err
