"""The report opened in a real browser (headless Chromium, the system's): it loads without
console errors, every picture decodes, the slider changes the shown grid, and it is not blank."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

import ganforge
from browser import INSTALL_HINT, Browser, find_browser
from conftest import TINY

DECODED = """Promise.all(Array.from(document.images).map(i => i.decode().then(
  () => [i.id, i.naturalWidth, i.naturalHeight], () => [i.id, 0, 0])))"""
MOVE = """(async () => {{
  const s = document.getElementById('slider'), img = document.getElementById('frame');
  s.value = {value}; s.dispatchEvent(new Event('input'));
  await img.decode();
  return [img.src, img.naturalWidth, document.getElementById('frame-label').textContent];
}})()"""


@pytest.fixture(scope="module")
def browser_binary() -> str:
    binary = find_browser()
    if binary is None:
        pytest.skip(INSTALL_HINT)
    pytest.importorskip("websocket", reason="pip install websocket-client (in the dev extra)")
    return binary


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, browser_binary: str) -> Path:
    out = tmp_path_factory.mktemp("browser") / "run"
    ganforge.train("dcgan", data="mnist", steps=6, sample_every=2, out=out, quiet=True, **TINY)
    return out / "report.html"


@pytest.mark.parametrize("width", [1000, 390])  # a laptop and a phone
def test_report_in_headless_chromium(report: Path, browser_binary: str, width: int) -> None:
    with Browser(browser_binary, width=width) as page:
        page.open(report)
        sizes = page.evaluate(DECODED)
        assert len(sizes) >= 2 and all(w > 0 and h > 0 for _, w, h in sizes), sizes
        frames = page.evaluate("JSON.parse(document.getElementById('frames').textContent)")
        shown = page.evaluate("document.getElementById('frame').src")
        assert len(frames) == 4 and shown == frames[-1]["src"]
        for value in range(len(frames)):  # each position shows its own grid, decoded
            src, natural_width, label = page.evaluate(MOVE.format(value=value))
            assert (src, label) == (frames[value]["src"], frames[value]["label"])
            assert natural_width > 0
        assert frames[0]["src"] != shown  # step 2's grid is not step 6's
        assert page.evaluate("window.innerWidth") == width
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways page
        shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
        colours = shot.getcolors(maxcolors=1 << 20)
        assert colours is None or len(colours) > 1, "the screenshot is blank"
        assert page.console_errors() == []
