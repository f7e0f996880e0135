"""Every `ganforge` command of docs/tutorials/ runs (a few steps, tiny networks), and every
picture a page shows is committed: the tutorials cannot fall behind the code."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from conftest import TINY
from ganforge.cli.main import main

TUTORIALS = Path(__file__).resolve().parents[1] / "docs" / "tutorials"
PAGES = sorted(p for p in TUTORIALS.glob("[0-9]*.md"))
TINY_FLAGS = [a for k, v in TINY.items() for a in (f"--{k.replace('_', '-')}", str(v))]
SMALL = {"--steps": "4", "--n": "64"}  # budgets cut to what a test can afford


def commands(page: Path) -> list[list[str]]:
    """The `ganforge …` lines of the page's bash blocks, as argument lists."""
    blocks = re.findall(r"```bash\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [shlex.split(line, comments=True)[1:] for line in lines if line.startswith("ganforge ")]


def shrunk(args: list[str]) -> list[str]:
    """The command at test size: --epochs becomes --steps 4, --steps and --n are cut, and
    `train` gets tiny networks."""
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
    monkeypatch.chdir(tmp_path)
    for args in commands(page):
        assert main(shrunk(args)) == 0, " ".join(args)


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_every_picture_is_committed(page: Path) -> None:
    for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text(encoding="utf-8")):
        assert (page.parent / target).is_file(), f"{page.name}: {target}"
