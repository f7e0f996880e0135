"""Bad input: one line on stderr naming the problem and the fix, exit status 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from ganforge.cli.main import main


def _run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(args)
    except SystemExit as exc:  # argparse errors
        code = int(exc.code or 0)
    return code, capsys.readouterr().err.strip()


def _corrupt_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "corrupt"
    folder.mkdir()
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    return folder


CASES = {
    "unknown model": (["train", "dcgna"], "unknown model 'dcgna'; choose from: "),
    "unknown dataset": (["train", "dcgan", "--data", "mnits"], "unknown dataset 'mnits'"),
    "missing data folder": (["train", "dcgan", "--data", "folder:/nonexistent/x"],
                            "does not exist"),
    "negative batch size": (["train", "dcgan", "--batch-size", "-4"], "--batch-size must be"),
    "unsupported image size": (["train", "dcgan", "--image-size", "48", "--steps", "1"],
                               "unsupported image size 48"),
    "unknown flag": (["train", "dcgan", "--learning-rate", "1"], "unrecognized arguments"),
    "unknown loss": (["train", "dcgan", "--loss", "wgan"], "unknown loss 'wgan'; choose from"),
    "not a run folder": (["sample", "/tmp"], "is not a ganforge run folder"),
    "missing run folder": (["sample", "/nonexistent/run"], "does not exist"),
    "unknown on-failure": (["train", "gan", "--on-failure", "panic"], "choose from: warn, stop"),
    "missing config file": (["train", "gan", "--config", "/nonexistent.yaml"], "does not exist"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gives_one_line(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    args, expected = CASES[case]
    code, err = _run_main(args, capsys)
    assert code == 2
    assert "\n" not in err and "Traceback" not in err
    assert expected in err


def test_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    code, err = _run_main(["train", "dcgan", "--data", f"folder:{tmp_path / 'empty'}"], capsys)
    assert code == 2 and "\n" not in err and "no image" in err.lower()


def test_folder_of_corrupt_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run_main(["train", "dcgan", "--data", f"folder:{_corrupt_folder(tmp_path)}"],
                          capsys)
    assert code == 2 and "\n" not in err and "could be read" in err


def test_corrupt_image_among_good_ones_is_skipped(tmp_path: Path, tiny: dict) -> None:
    import ganforge

    folder = _corrupt_folder(tmp_path)
    for i in range(20):
        Image.new("RGB", (40, 30), (i * 10, 0, 0)).save(folder / f"ok{i}.png")
    run = ganforge.train("dcgan", data=f"folder:{folder}", image_size=32, steps=1,
                         out=tmp_path / "r", quiet=True, **tiny)
    assert run.dir.meta()["skipped_files"] == 1 and run.dir.meta()["n_train"] == 20


def test_unknown_config_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("batch-size: 8\nlearning_rate: 0.1\n")
    code, err = _run_main(["train", "gan", "--config", str(cfg)], capsys)
    assert code == 2 and "unknown option 'learning_rate'" in err and "batch-size" in err


def test_existing_run_is_never_overwritten(tmp_path: Path, tiny: dict,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import ganforge

    ganforge.train("gan", data="ring8", steps=2, out=tmp_path / "r", quiet=True, **tiny)
    before = (tmp_path / "r" / "checkpoints" / "last.pt").read_bytes()
    code, err = _run_main(["train", "gan", "--data", "ring8", "--out", str(tmp_path / "r")], capsys)
    assert code == 2 and "already holds a run" in err and "--resume" in err
    assert (tmp_path / "r" / "checkpoints" / "last.pt").read_bytes() == before


def test_console_script_exit_status_without_traceback() -> None:
    proc = subprocess.run([sys.executable, "-m", "ganforge.cli.main", "train", "nosuchgan"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert "unknown model 'nosuchgan'" in proc.stderr


def test_config_nested_too_deep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A --config file nested 100,000 deep is refused in one line (not a RecursionError)."""
    cfg = tmp_path / "deep.yaml"
    cfg.write_text("batch-size: " + "[" * 100_000)
    code, err = _run_main(["train", "gan", "--config", str(cfg)], capsys)
    assert code == 2 and "not valid YAML" in err and "Traceback" not in err
