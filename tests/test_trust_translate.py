"""`ganforge translate`, `sample` and `eval` on a translation run folder with a malicious file
planted in it: a pickle in the checkpoint or in an exported generator's weights, a python tag in
config.yaml. Each command ends in one line, exit status 2, and the payload never runs."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ganforge
from ganforge.cli.main import main
from untrusted import Call


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 2-step cyclegan run on mnist-style (tiny networks)."""
    out = tmp_path_factory.mktemp("trust") / "cyclegan"
    ganforge.train("cyclegan", data="mnist-style", image_size=32, width=8, blocks=1, steps=2,
                   out=str(out), quiet=True, log_every=1000, monitor_every=0)
    return out


def _setup(base: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    run = tmp_path / "run"
    shutil.copytree(base, run)
    image = tmp_path / "digit.png"
    Image.fromarray(np.zeros((32, 32), dtype=np.uint8)).save(image)
    return run, image, tmp_path / "pwned"


def _commands(run: Path, image: Path, tmp: Path) -> dict[str, list[str]]:
    return {"translate": ["translate", str(run), "--input", str(image), "--out", str(tmp / "o")],
            "sample": ["sample", str(run), "--out", str(tmp / "s.png")],
            "eval": ["eval", str(run), "--n", "8", "--metrics", "cycle"]}


def _refused(args: list[str], marker: Path, name: str,
             capsys: pytest.CaptureFixture[str]) -> None:
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "\n" not in err and "Traceback" not in err and name in err, err
    assert not marker.exists(), f"code from {name} ran during {args[0]}"


def _evil(marker: Path, how: str) -> object:
    payload = Call(os.system, f"touch '{marker}'")
    return {"format": 2, "variant": payload} if how != "weights" else payload


def test_the_payload_is_live(tmp_path: Path) -> None:
    """Control: unpickling the payload with the full unpickler does create the marker."""
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(_evil(marker, "checkpoint")))
    assert marker.exists()


@pytest.mark.parametrize("how", ["raw pickle", "torch.save archive"])
def test_malicious_checkpoint_never_runs(how: str, base: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    run, image, marker = _setup(base, tmp_path)
    for weights in run.glob("*.safetensors"):  # a run still training: the checkpoint is read
        weights.unlink()
    path = run / "checkpoints" / "last.pt"
    if how == "raw pickle":
        path.write_bytes(pickle.dumps(_evil(marker, "checkpoint"), protocol=4))
    else:
        torch.save(_evil(marker, "checkpoint"), path)
    for args in _commands(run, image, tmp_path).values():
        _refused(args, marker, "last.pt", capsys)


def test_malicious_weights_never_run(base: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    run, image, marker = _setup(base, tmp_path)
    exports = sorted(run.glob("*.safetensors"))
    assert len(exports) == 2, exports  # G_AB and G_BA
    for export in exports:
        export.write_bytes(pickle.dumps(_evil(marker, "weights"), protocol=4))
    for args in _commands(run, image, tmp_path).values():
        _refused(args, marker, ".safetensors", capsys)


def test_malicious_yaml_never_runs(base: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    run, image, marker = _setup(base, tmp_path)
    (run / "config.yaml").write_text(f"model: !!python/object/apply:os.system ['touch {marker}']\n")
    for args in _commands(run, image, tmp_path).values():
        _refused(args, marker, "config.yaml", capsys)
