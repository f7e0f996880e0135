"""Every `ganforge` command of docs/tutorials/ runs (a few steps, tiny networks), and every
picture a page shows is committed: the tutorials cannot fall behind the code."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from conftest import TINY
from ganforge.cli.main import main
from ganforge.data.archives import ARCHIVE_SETS, find_set

TUTORIALS = Path(__file__).resolve().parents[1] / "docs" / "tutorials"
PAGES = sorted(p for p in TUTORIALS.glob("[0-9]*.md"))
TINY_FLAGS = [a for k, v in TINY.items() for a in (f"--{k.replace('_', '-')}", str(v))]
# budgets cut to what a test can afford (a CycleGAN step at 128 px costs 20x one at 32 px)
SMALL = {"--steps": "4", "--n": "64", "--image-size": "32"}


def commands(page: Path) -> list[list[str]]:
    """The `ganforge …` lines of the page's bash blocks, as argument lists ($VARS expanded)."""
    blocks = re.findall(r"```bash\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [shlex.split(os.path.expandvars(line), comments=True)[1:] for line in lines
            if line.startswith("ganforge ")]


def missing_data(args: list[str]) -> str | None:
    """The downloaded dataset (facades, horse2zebra, …) a command trains on, when it is not on
    this machine: a test does not download it."""
    name = args[args.index("--data") + 1] if "--data" in args else None
    if name in ARCHIVE_SETS and find_set(name, "train") is None:
        return name
    return None


def shrunk(args: list[str]) -> list[str]:
    """The command at test size: --epochs becomes --steps 4, --steps, --n and --image-size are
    cut, and `train` gets tiny networks."""
    out, i = [], 0
    while i < len(args):
        flag = args[i]
        if flag == "--epochs":
            out += ["--steps", "4"]
            i += 2
            continue
        out.append(flag)
        if flag in SMALL and i + 1 < len(args):
            out.append(SMALL[flag])
            i += 1
        i += 1
    return out + TINY_FLAGS if args[0] == "train" else out


def test_there_are_tutorials() -> None:
    assert len(PAGES) >= 2 and all(commands(p) for p in PAGES)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_every_command_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = {m for m in map(missing_data, commands(page)) if m}
    if missing:
        pytest.skip(f"{', '.join(sorted(missing))} not found: put it under $GANFORGE_DATA")
    monkeypatch.chdir(tmp_path)
    for args in commands(page):
        assert main(shrunk(args)) == 0, " ".join(args)


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_every_picture_is_committed(page: Path) -> None:
    for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text(encoding="utf-8")):
        assert (page.parent / target).is_file(), f"{page.name}: {target}"
