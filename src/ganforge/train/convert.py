"""Converting a checkpoint of an older ganforge (format 1) to the current format.

Format 1 stored python's and numpy's RNG states as a tuple and a numpy array, which only the full
unpickler reads, and the full unpickler runs whatever code a file asks it to. So this is the one
place ganforge reads a file with `weights_only=False`, and only when the user runs
`ganforge convert-checkpoint RUN` on a file they trust.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.errors import RunError
from ganforge.train.checkpoint import FORMAT, load_checkpoint, one_line, save_checkpoint
from ganforge.train.lock import RunLock
from ganforge.train.rng import encode_numpy, encode_python
from ganforge.train.run import RunDir

BACKUP_NAME = "last-format1.pt"


def _trusted_load(path: Path) -> dict[str, Any]:
    """Read a format-1 checkpoint with the full unpickler (runs code: trusted files only)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any failure: the file is not a readable checkpoint
        raise RunError(f"cannot read '{path}' as an old checkpoint ({one_line(exc, 80)})") from None
    if not isinstance(state, dict) or not isinstance(state.get("rng"), dict):
        raise RunError(f"'{path}' is not a ganforge checkpoint (no RNG states)")
    return state


def _plain(value: Any) -> Any:
    """numpy scalars and arrays -> python numbers and tensors, recursively."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    if isinstance(value, np.generic):
        return value.item()
    return value


def convert_state(old: dict[str, Any]) -> dict[str, Any]:
    """A format-1 state with its RNG states as tensors and numbers (format 2)."""
    rng = dict(old["rng"])
    try:
        rng["python"] = encode_python(tuple(rng["python"]))
        rng["numpy"] = encode_numpy(tuple(rng["numpy"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise RunError(f"the RNG states of the old checkpoint are not python's and numpy's "
                       f"({one_line(exc, 80)})") from None
    new = {k: _plain(v) for k, v in old.items() if k not in ("rng", "format")}
    return {**new, **_interface_v2(new), "rng": rng}


def _interface_v2(old: dict[str, Any]) -> dict[str, Any]:
    """Format 1's single EMA generator and G loss as format 2's per-export and per-phase maps,
    and the base learning rates (format 1 had no schedule: the optimisers' own rates)."""
    try:
        counters = dict(old["counters"])
        last_g = counters.pop("last_g", None)
        counters["last"] = {"G": last_g} if last_g is not None else {}
        ema = old.get("ema")
        base = {k: float(o["param_groups"][0]["lr"]) for k, o in old["optimizers"].items()}
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise RunError(f"the old checkpoint's counters or optimisers are damaged "
                       f"({one_line(exc, 80)})") from None
    return {"counters": counters, "ema": {"generator": ema} if ema is not None else {},
            "base_lrs": base}


def convert_run(path: str | Path) -> str:
    """Rewrite RUN/checkpoints/last.pt in the current format, keeping the old file beside it."""
    run = RunDir.open(path)
    ckpt = run.checkpoint
    with RunLock(run.root):
        try:
            load_checkpoint(ckpt)
            return f"'{ckpt}' already has the current format {FORMAT}; nothing to do"
        except RunError as exc:
            if "convert-checkpoint" not in str(exc):
                raise  # damaged, foreign or newer: converting would not help
        new = convert_state(_trusted_load(ckpt))
        backup = ckpt.with_name(BACKUP_NAME)
        shutil.copy2(ckpt, backup)
        save_checkpoint(ckpt, new)
        load_checkpoint(ckpt)  # the result loads without running code
    return (f"converted '{ckpt}' to format {FORMAT}; the old file is kept as '{backup}' "
            "(delete it once the run resumes)")
