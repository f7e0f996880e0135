"""Files in a run folder cannot run code, and foreign, corrupt or old ones fail cleanly: one line
naming the file and the problem, exit status 2, no traceback."""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import ganforge
from ganforge.cli.main import main
from ganforge.train import session
from ganforge.train.checkpoint import load_checkpoint
from untrusted import Call

TINY = {"width": 8, "hidden": 16, "latent_dim": 8, "batch_size": 16, "grid_size": 16,
        "log_every": 1000, "monitor_every": 0, "checkpoint_every": 1000, "sample_every": 1000}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 3-step gan run on ring8."""
    root = tmp_path_factory.mktemp("trust") / "base"
    ganforge.train("gan", data="ring8", steps=3, out=root, quiet=True, **TINY)
    return root


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of another model (DCGAN on MNIST), for foreign checkpoints and weights."""
    root = tmp_path_factory.mktemp("trust") / "other"
    ganforge.train("dcgan", data="mnist", steps=1, out=root, quiet=True, **TINY)
    return root


def _copy(base: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(base, run)
    return run


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err.strip()


COMMANDS = {
    "sample": lambda run, tmp: ["sample", str(run), "--n", "4", "--format", "npy",
                                "--out", str(tmp / "s.npy")],
    "eval": lambda run, tmp: ["eval", str(run), "--n", "8", "--metrics", "w1"],
    "resume": lambda run, tmp: ["train", "--resume", str(run), "--steps", "5"],
}


# ----- no code from data -------------------------------------------------------------------------
def _payloads(marker: Path) -> dict[str, object]:
    """Objects whose unpickling would create `marker`."""
    return {"os.system": Call(os.system, f"touch '{marker}'"),
            "builtins.exec": Call(builtins.exec, f"open(r'{marker}', 'w').close()"),
            "builtins.open": Call(builtins.open, str(marker), "w")}


def _evil_files(marker: Path) -> dict[str, Callable[[Path], None]]:
    """Ways of writing a malicious pickle to a path."""
    def raw(proto: int, how: str) -> Callable[[Path], None]:
        return lambda p: p.write_bytes(pickle.dumps({"format": 2, "variant": payloads[how]},
                                                    protocol=proto))

    payloads = _payloads(marker)
    files: dict[str, Callable[[Path], None]] = {
        f"raw pickle protocol {proto} calling {how}": raw(proto, how)
        for proto in (2, 4) for how in payloads}
    files["torch.save archive calling os.system"] = lambda p: torch.save(
        {"format": 2, "variant": payloads["os.system"]}, p)
    files["torch.save legacy format calling builtins.exec"] = lambda p: torch.save(
        {"format": 2, "variant": payloads["builtins.exec"]}, p,
        _use_new_zipfile_serialization=False)
    files["old-format lookalike (numpy RNG state) calling os.system"] = lambda p: torch.save(
        {"rng": {"numpy": np.random.get_state()}, "variant": payloads["os.system"]}, p)
    return files


MALICIOUS_CHECKPOINTS = list(_evil_files(Path("/x")))
MALICIOUS_WEIGHTS = ["raw pickle protocol 4 calling os.system",
                     "torch.save archive calling os.system"]


@pytest.mark.parametrize("case", MALICIOUS_CHECKPOINTS)
def test_the_payloads_are_live(case: str, tmp_path: Path) -> None:
    """Control: the full unpickler (what ganforge used before) does run each payload."""
    marker, path = tmp_path / "pwned", tmp_path / "evil.pt"
    _evil_files(marker)[case](path)
    with warnings.catch_warnings(), contextlib.suppress(RuntimeError):
        warnings.simplefilter("ignore")
        torch.load(path, weights_only=False)  # a raw pickle runs, then fails the magic number
    assert marker.exists()


def _assert_refused(code: int, err: str, marker: Path, name: str) -> None:
    assert code == 2, err
    assert "\n" not in err and "Traceback" not in err and name in err, err
    assert not marker.exists(), "code from the file ran"


@pytest.mark.parametrize("case", MALICIOUS_CHECKPOINTS)
def test_malicious_checkpoint_never_runs(case: str, base: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    run, marker = _copy(base, tmp_path), tmp_path / "pwned"
    (run / "generator.safetensors").unlink()  # a run still training: sample reads the checkpoint
    _evil_files(marker)[case](run / "checkpoints" / "last.pt")
    for command in ("sample", "eval", "resume"):
        code, err = _cli(COMMANDS[command](run, tmp_path), capsys)
        _assert_refused(code, err, marker, "last.pt")
    print(f"malicious checkpoint, {case}: sample, eval, resume refused, no code ran")


@pytest.mark.parametrize("case", MALICIOUS_WEIGHTS)
def test_malicious_weights_never_run(case: str, base: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    run, marker = _copy(base, tmp_path), tmp_path / "pwned"
    _evil_files(marker)[case](run / "generator.safetensors")
    for command in ("sample", "eval"):
        code, err = _cli(COMMANDS[command](run, tmp_path), capsys)
        _assert_refused(code, err, marker, "generator.safetensors")
    print(f"malicious generator.safetensors, {case}: sample, eval refused, no code ran")


def test_malicious_yaml_never_runs(base: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    run, marker = _copy(base, tmp_path), tmp_path / "pwned"
    (run / "config.yaml").write_text(f"model: !!python/object/apply:os.system ['touch {marker}']\n")
    for command in ("sample", "eval", "resume"):
        code, err = _cli(COMMANDS[command](run, tmp_path), capsys)
        _assert_refused(code, err, marker, "config.yaml")
    print("malicious config.yaml (python/object/apply:os.system): refused, no code ran")


def test_console_script_refuses_a_malicious_checkpoint(base: Path, tmp_path: Path) -> None:
    run, marker = _copy(base, tmp_path), tmp_path / "pwned"
    _evil_files(marker)["raw pickle protocol 2 calling os.system"](run / "checkpoints" / "last.pt")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    args = [sys.executable, "-m", "ganforge.cli.main", "train", "--resume", str(run)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    _assert_refused(proc.returncode, proc.stderr.strip(), marker, "last.pt")


def test_image_decoders_are_limited_to_image_formats(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow picks decoders by content; an EPS named .png would be handed to Ghostscript."""
    from PIL import EpsImagePlugin, Image

    from ganforge.data.folder import load_folder

    ran: list[object] = []
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", lambda *a, **k: ran.append(a))
    for i in range(3):
        Image.new("RGB", (8, 8), (i, 0, 0)).save(tmp_path / f"ok{i}.png")
    (tmp_path / "evil.png").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\n"
                                        b"(x) run\nshowpage\n%%EOF\n")
    data = load_folder(tmp_path, image_size=8, channels=3)
    assert data.skipped == 1 and len(data) == 3 and not ran


# ----- foreign, corrupt and old checkpoints ------------------------------------------------------
def _edit_checkpoint(edit: Callable[[dict], object]) -> Callable[[Path, Path], None]:
    def plant(run: Path, other: Path) -> None:
        path = run / "checkpoints" / "last.pt"
        state = load_checkpoint(path)
        edit(state)  # in place
        torch.save(state, path)
    return plant


def _bytes(make: Callable[[bytes], bytes]) -> Callable[[Path, Path], None]:
    def plant(run: Path, other: Path) -> None:
        path = run / "checkpoints" / "last.pt"
        path.write_bytes(make(path.read_bytes()))
    return plant


def _first_key(state: dict) -> str:
    return next(iter(state["variant"]))


def _old_format(state: dict) -> None:
    """The previous format: no version, RNG states as python and numpy objects."""
    from ganforge.train.rng import decode_numpy, decode_python

    del state["format"]
    state["rng"]["python"] = decode_python(state["rng"]["python"])
    state["rng"]["numpy"] = decode_numpy(state["rng"]["numpy"])
    state["ema"] = state["ema"].get("generator")  # one EMA generator or None
    counters = state["counters"]
    counters["last_g"] = counters.pop("last").get("G")  # only G's last loss
    del state["base_lrs"]  # no schedules


CHECKPOINT_CASES: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "another model's checkpoint": (
        lambda run, other: shutil.copy(other / "checkpoints" / "last.pt",
                                       run / "checkpoints" / "last.pt"), "does not fit"),
    "missing key": (_edit_checkpoint(lambda s: s["variant"].pop(_first_key(s))), "missing keys"),
    "extra key": (_edit_checkpoint(lambda s: s["variant"].update(extra=torch.ones(1))),
                  "unexpected keys"),
    "wrong shape": (_edit_checkpoint(lambda s: s["variant"].update(
        {_first_key(s): torch.ones(3, 3, 3)})), "wrong shapes"),
    "truncated": (_bytes(lambda b: b[: len(b) // 2]), "truncated or corrupt"),
    "empty": (_bytes(lambda b: b""), "is empty"),
    "not a checkpoint": (_bytes(lambda b: b"\x89PNG\r\n\x1a\n" + b"\0" * 64),
                         "not a ganforge checkpoint"),
    "plain tensor": (lambda run, other: torch.save(torch.ones(3), run / "checkpoints" / "last.pt"),
                     "not a ganforge checkpoint"),
    "newer format": (_edit_checkpoint(lambda s: s.update(format=99)), "newer ganforge"),
    "previous format": (_edit_checkpoint(_old_format), "ganforge convert-checkpoint"),
    "counter of the wrong type": (_edit_checkpoint(lambda s: s["counters"].update(step="7")),
                                  "counter 'step'"),
    "optimiser state of another shape": (_edit_checkpoint(lambda s: s["optimizers"]["D"]["state"][0]
                                                          .update(exp_avg=torch.ones(5))),
                                         "optimiser D"),
    "RNG state damaged": (_edit_checkpoint(lambda s: s["rng"].update(torch=torch.ones(3))),
                          "damaged or from another kind of run"),
    "EMA where the run has none": (_edit_checkpoint(lambda s: s.update(ema=dict(s["variant"]))),
                                   "EMA"),
}


@pytest.mark.parametrize("case", CHECKPOINT_CASES)
def test_bad_checkpoint_fails_cleanly(case: str, base: Path, other: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    run = _copy(base, tmp_path)
    plant, expected = CHECKPOINT_CASES[case]
    plant(run, other)
    (run / "generator.safetensors").unlink()
    commands = ["resume"] if case.startswith(("counter", "optimiser", "RNG", "EMA")) else \
        ["resume", "sample"]
    for command in commands:
        code, err = _cli(COMMANDS[command](run, tmp_path), capsys)
        assert code == 2 and "\n" not in err and "Traceback" not in err, err
        assert "last.pt" in err and expected in err, err


# ----- foreign and corrupt weights, config.yaml and meta.json ------------------------------------
def _weights(edit: Callable[[dict], object]) -> Callable[[Path, Path], None]:
    def plant(run: Path, other: Path) -> None:
        from safetensors.torch import load_file

        path = run / "generator.safetensors"
        weights = load_file(str(path))
        edit(weights)
        save_file(weights, str(path))
    return plant


def _text(name: str, text: str) -> Callable[[Path, Path], None]:
    return lambda run, other: (run / name).write_text(text)


def _meta(edit: Callable[[dict], object]) -> Callable[[Path, Path], None]:
    def plant(run: Path, other: Path) -> None:
        meta = json.loads((run / "meta.json").read_text())
        edit(meta)
        (run / "meta.json").write_text(json.dumps(meta))
    return plant


def _config(key: str, value: object) -> Callable[[Path, Path], None]:
    def plant(run: Path, other: Path) -> None:
        import yaml

        cfg = yaml.safe_load((run / "config.yaml").read_text())
        cfg[key] = value
        (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    return plant


WEIGHTS_CASES: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "another model's weights": (lambda run, other: shutil.copy(
        other / "generator.safetensors", run / "generator.safetensors"), "does not fit"),
    "missing key": (_weights(lambda w: w.pop(next(iter(w)))), "missing keys"),
    "extra key": (_weights(lambda w: w.update(extra=torch.ones(1))), "unexpected keys"),
    "wrong shape": (_weights(lambda w: w.update({next(iter(w)): torch.ones(2)})), "wrong shapes"),
    "truncated": (lambda run, other: (run / "generator.safetensors").write_bytes(
        (run / "generator.safetensors").read_bytes()[:100]), "not a readable safetensors"),
    "empty": (_text("generator.safetensors", ""), "is empty"),
    "not weights": (_text("generator.safetensors", "hello"), "not a readable safetensors"),
    "newer format": (lambda run, other: save_file(
        {"x": torch.ones(1)}, str(run / "generator.safetensors"),
        metadata={"ganforge_weights": "9"}), "newer ganforge"),
}
LAUGHS = "model: [" + ", ".join(f"&{b} [{', '.join([f'*{a}' if a else 'lol'] * 9)}]"
                                for a, b in zip(["", "a", "b", "c", "d", "e"], "abcdef")) + "]\n"
RUN_FILE_CASES: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "config.yaml not YAML": (_text("config.yaml", "model: [gan\n"), "not valid YAML"),
    "config.yaml a list": (_text("config.yaml", "- gan\n"), "not a mapping"),
    "config.yaml unknown key": (_config("learning_rate", 0.1), "unknown option 'learning_rate'"),
    "config.yaml wrong type": (_config("hidden", "wide"),
                               "--hidden must be an integer, got 'wide' (str)"),
    "config.yaml invalid value": (_config("batch_size", -3), "--batch-size must be"),
    "config.yaml disagrees with the weights": (_config("hidden", 32), "does not fit"),
    "config.yaml nested 100000 deep": (_text("config.yaml", "model: " + "[" * 100_000),
                                       "not valid YAML"),
    "config.yaml of a billion laughs": (_text("config.yaml", LAUGHS),
                                        "--model must be a string, got [["),
    "config.yaml a 5000-digit number": (_text("config.yaml", "batch_size: " + "9" * 5000),
                                        "not valid YAML"),
    "meta.json not JSON": (_text("meta.json", "{data_spec: "), "not valid JSON"),
    "meta.json nested 100000 deep": (_text("meta.json", '{"data_spec": ' + "[" * 100_000),
                                     "not valid JSON"),
    "meta.json without data_spec": (_meta(lambda m: m.pop("data_spec")), "data_spec is missing"),
    "meta.json odd shape": (_meta(lambda m: m["data_spec"].update(shape=[-1])), "shape is [-1]"),
    "meta.json disagrees with the weights": (_meta(lambda m: m["data_spec"].update(shape=[3])),
                                             "does not fit"),
}


@pytest.mark.parametrize("case", WEIGHTS_CASES)
def test_bad_weights_fail_cleanly(case: str, base: Path, other: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    run = _copy(base, tmp_path)
    plant, expected = WEIGHTS_CASES[case]
    plant(run, other)
    for command in ("sample", "eval"):
        code, err = _cli(COMMANDS[command](run, tmp_path), capsys)
        assert code == 2 and "\n" not in err and "Traceback" not in err, err
        assert "generator.safetensors" in err and expected in err, err


@pytest.mark.parametrize("case", RUN_FILE_CASES)
def test_bad_config_or_meta_fails_cleanly(case: str, base: Path, other: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    run = _copy(base, tmp_path)
    plant, expected = RUN_FILE_CASES[case]
    plant(run, other)
    names = {"config.yaml", "meta.json"} if "disagrees" not in case else {"generator.safetensors",
                                                                          "last.pt"}
    for command in ("sample", "eval", "resume"):
        code, err = _cli(COMMANDS[command](run, tmp_path), capsys)
        assert code == 2 and "\n" not in err and "Traceback" not in err, err
        assert any(n in err for n in names) and expected in err, err


# ----- the previous format: refused with a hint, converted on request, then bitwise --------------
def test_previous_format_converts_and_resumes_bitwise(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    ganforge.train("gan", data="ring8", steps=6, out=tmp_path / "full", quiet=True, **TINY)
    ganforge.train("gan", data="ring8", steps=3, out=tmp_path / "old", quiet=True, **TINY)
    _edit_checkpoint(_old_format)(tmp_path / "old", tmp_path)
    code, err = _cli(COMMANDS["resume"](tmp_path / "old", tmp_path), capsys)
    assert code == 2 and f"ganforge convert-checkpoint {tmp_path / 'old'}" in err
    assert main(["convert-checkpoint", str(tmp_path / "old")]) == 0
    assert "converted" in capsys.readouterr().out
    assert (tmp_path / "old" / "checkpoints" / "last-format1.pt").is_file()
    assert main(["convert-checkpoint", str(tmp_path / "old")]) == 0  # a second time: nothing to do
    assert "nothing to do" in capsys.readouterr().out
    session.resume(tmp_path / "old", {"steps": 6}, quiet=True)
    a = load_checkpoint(tmp_path / "full" / "checkpoints" / "last.pt")["variant"]
    b = load_checkpoint(tmp_path / "old" / "checkpoints" / "last.pt")["variant"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_convert_refuses_what_it_cannot_help(base: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    run, marker = _copy(base, tmp_path), tmp_path / "pwned"
    _evil_files(marker)["torch.save archive calling os.system"](run / "checkpoints" / "last.pt")
    code, err = _cli(["convert-checkpoint", str(run)], capsys)
    _assert_refused(code, err, marker, "holds pickled Python objects")


def test_convert_help_warns_about_trust(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["convert-checkpoint", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "runs any code hidden in the file" in text and "trust" in text
