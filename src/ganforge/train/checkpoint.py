"""Checkpoints and weights files: written atomically, read without running code.

A checkpoint is a `torch.save` archive of tensors and plain values (dicts, lists, numbers,
strings) tagged with a format version, so `torch.load(weights_only=True)` reads it: a file from
elsewhere can fail to load, but it cannot run code. Generator weights are safetensors. Every
problem with a file is a one-line `RunError` naming the file.
"""

from __future__ import annotations

import errno
import os
import pickle
import reprlib
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.errors import RunError, WriteError

#: Checkpoint format written now. 1: RNG states as python tuples and numpy arrays (needed the
#: full unpickler); 2: only tensors and plain values, plus this "format" key.
FORMAT = 2
#: What the numpy RNG state of a format-1 checkpoint pickles (numpy 1.x and 2.x names).
FORMAT1_GLOBALS = frozenset({"numpy.dtype", "numpy.ndarray", "numpy.core.multiarray._reconstruct",
                             "numpy._core.multiarray._reconstruct", "numpy.dtypes.UInt32DType"})
ZIP_MAGIC = b"PK\x03\x04"
WEIGHTS_FORMAT = "1"  # safetensors metadata "ganforge_weights"


def one_line(exc: BaseException, limit: int = 160) -> str:
    """An exception as `Type: message`, on one line, at most `limit` characters."""
    text = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


_SHORT = reprlib.Repr()  # keyword arguments need python 3.12
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxtuple, _SHORT.maxdict = 2, 3, 3, 3
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 40


def short(value: object) -> str:
    """A bounded one-line repr of a value read from a file (however big or deeply nested)."""
    return " ".join(_SHORT.repr(value).split())


def write_error(path: Path, exc: OSError) -> WriteError:
    """The one-line error for a failed write of `path` (disk full, read-only folder, …)."""
    name = errno.errorcode.get(exc.errno or 0)
    reason = f"{exc.strerror} ({name})" if exc.strerror and name else one_line(exc)
    return WriteError(f"cannot write '{path}': {reason}")


@contextmanager
def guard_write(path: Path) -> Iterator[None]:
    """Turn an OSError raised while writing `path` into a one-line `WriteError`."""
    try:
        yield
    except WriteError:
        raise
    except OSError as exc:
        raise write_error(path, exc) from None


def atomic_write(path: Path, write: Callable[[str], Any]) -> None:
    """Call `write(tmp_path)`, fsync, then rename over `path` (same folder, so rename is atomic).

    A failure (or a kill) at any point leaves the previous `path` as it was.
    """
    with guard_write(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            write(tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)


# ----- checkpoints ------------------------------------------------------------------------------
def plain(value: Any, where: str = "state") -> Any:
    """`value` with paths as strings, checked to hold only what `weights_only` loads: tensors,
    numbers, strings, None and dicts, lists and tuples of them (a TypeError names anything else,
    which would make the checkpoint unloadable)."""
    if isinstance(value, dict):
        return {k: plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, (Tensor, int, float, str, torch.Size)):
        return value
    raise TypeError(f"{where} is a {type(value).__name__}; a checkpoint holds only tensors and "
                    "plain values")


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write `state` (networks, optimisers, counters, RNG, config) atomically, with FORMAT."""
    data = plain({"format": FORMAT, **state})
    atomic_write(path, lambda tmp: torch.save(data, tmp))


def convert_hint(path: Path) -> str:
    """How to convert a format-1 checkpoint (the run folder is two levels above last.pt)."""
    return f"ganforge convert-checkpoint {path.parent.parent}"


def _refusal(path: Path) -> RunError:
    """Why the safe unpickler refused a torch archive: an older ganforge, or foreign objects."""
    try:
        found = set(torch.serialization.get_unsafe_globals_in_checkpoint(str(path)))
    except Exception:  # noqa: BLE001 - a static scan that fails says nothing more
        found = set()
    if found and found <= FORMAT1_GLOBALS:
        return RunError(f"checkpoint '{path}' was written by an older ganforge (format 1, read "
                        f"only by running pickled code); if you made it, convert it once with: "
                        f"{convert_hint(path)}")
    names = ", ".join(sorted(found - FORMAT1_GLOBALS)[:3]) or "unknown objects"
    return RunError(f"checkpoint '{path}' holds pickled Python objects ({names}) that no ganforge "
                    "checkpoint contains; refusing to load it (it was not written by ganforge)")


def _read(path: Path) -> Any:
    """torch.load with weights_only=True; every failure is a one-line RunError."""
    if not path.is_file():
        raise RunError(f"no checkpoint at '{path}'; the run has not saved one yet")
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise RunError(f"cannot read checkpoint '{path}': {one_line(exc)}") from None
    if not head:
        raise RunError(f"checkpoint '{path}' is empty (0 bytes): a write was cut short; "
                       "resume from an earlier copy or start a new run")
    if head != ZIP_MAGIC:
        raise RunError(f"'{path}' is not a ganforge checkpoint (not a torch.save archive; it "
                       f"starts with bytes {head.hex(' ')})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise _refusal(path) from None
    except Exception as exc:  # noqa: BLE001 - any failure to parse means the same to the user
        raise RunError(f"checkpoint '{path}' is truncated or corrupt ({one_line(exc, 80)}); "
                       "resume from an earlier copy or start a new run") from None


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint`, without running code; check its format."""
    state = _read(path)
    if not isinstance(state, dict) or "format" not in state:
        what = "a dict with no format version" if isinstance(state, dict) else type(state).__name__
        raise RunError(f"'{path}' is not a ganforge checkpoint (it holds {what})")
    version = state["format"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RunError(f"checkpoint '{path}' has an invalid format version {short(version)}")
    if version > FORMAT:
        raise RunError(f"checkpoint '{path}' was written by a newer ganforge (format {version}; "
                       f"this one reads up to {FORMAT}); upgrade ganforge to use it")
    if version < FORMAT:
        raise RunError(f"checkpoint '{path}' has the old format {version}; convert it once with: "
                       f"{convert_hint(path)}")
    return state


# ----- weights --------------------------------------------------------------------------------
def save_weights(path: Path, module: nn.Module) -> None:
    """Write a module's weights as safetensors, atomically."""
    from safetensors.torch import save_file

    weights = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    meta = {"ganforge_weights": WEIGHTS_FORMAT}
    atomic_write(path, lambda tmp: save_file(weights, tmp, metadata=meta))


def load_weights(path: Path) -> dict[str, Tensor]:
    """Read a safetensors file written by `save_weights`; any problem is a one-line RunError."""
    from safetensors import safe_open

    if not path.is_file():
        raise RunError(f"no weights file at '{path}'")
    if path.stat().st_size == 0:
        raise RunError(f"weights file '{path}' is empty (0 bytes): a write was cut short")
    try:
        with safe_open(str(path), framework="pt") as f:
            version = (f.metadata() or {}).get("ganforge_weights", WEIGHTS_FORMAT)
            weights = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # noqa: BLE001 - the safetensors parser's errors are all "corrupt"
        raise RunError(f"weights file '{path}' is not a readable safetensors file "
                       f"({one_line(exc, 80)}); it is truncated, corrupt or not weights") from None
    if not version.isdigit() or int(version) > int(WEIGHTS_FORMAT):
        raise RunError(f"weights file '{path}' was written by a newer ganforge (weights format "
                       f"{version}); upgrade ganforge to use it")
    return weights


def mismatch(module: nn.Module, loaded: object) -> str | None:
    """What keeps `loaded` from loading into `module` strictly (None when it fits)."""
    if not isinstance(loaded, Mapping):
        return f"expected a mapping of tensors, found {type(loaded).__name__}"
    own = module.state_dict()
    missing = [k for k in own if k not in loaded]
    extra = [str(k) for k in loaded if k not in own]
    wrong = [f"{k} is {_shape(loaded[k])} in the file but {_shape(v)} in the model"
             for k, v in own.items() if k in loaded and _shape(loaded[k]) != _shape(v)]
    problems = [f"{len(missing)} missing keys ({', '.join(missing[:3])})" if missing else "",
                f"{len(extra)} unexpected keys ({', '.join(extra[:3])})" if extra else "",
                f"{len(wrong)} wrong shapes ({'; '.join(wrong[:2])})" if wrong else ""]
    text = "; ".join(p for p in problems if p)
    return text or None


def _shape(value: object) -> tuple[int, ...] | str:
    return tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__


def load_module(module: nn.Module, loaded: object, path: Path, what: str) -> None:
    """Load `loaded` into `module` strictly; a mismatch is a one-line RunError naming `path`."""
    problem = mismatch(module, loaded)
    if problem:
        raise RunError(f"'{path}' does not fit {what}: {problem}")
    try:
        module.load_state_dict(loaded)  # type: ignore[arg-type]
    except RuntimeError as exc:  # e.g. a complex or non-numeric tensor where floats belong
        raise RunError(f"'{path}' does not fit {what}: {one_line(exc, 100)}") from None
