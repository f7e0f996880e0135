"""The run folder: config, loss log, sample grids, pictures, checkpoints and final weights.

A run folder alone is enough to reload and resample: config.yaml + meta.json + the weights.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ganforge.config import TrainConfig, parse_yaml
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError, RunError
from ganforge.train.checkpoint import atomic_write, guard_write, one_line, short

MAX_SIDE = 1 << 16  # a data shape beyond this is not one ganforge wrote


@dataclass
class RunDir:
    """Paths of one run folder."""

    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / "config.yaml"

    @property
    def meta_path(self) -> Path:
        return self.root / "meta.json"

    @property
    def log_path(self) -> Path:
        return self.root / "log.jsonl"

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    @property
    def checkpoint(self) -> Path:
        return self.root / "checkpoints" / "last.pt"

    @property
    def generator_weights(self) -> Path:
        return self.weights("generator")

    def weights(self, name: str) -> Path:
        """The final weights of the exported network `name` (generator, g_ab, …)."""
        return self.root / f"{name}.safetensors"

    @property
    def loss_curve(self) -> Path:
        return self.root / "loss_curve.png"

    @staticmethod
    def default_path(cfg: TrainConfig) -> Path:
        """runs/<model>-<data>-<time>, with the data name made file-system safe."""
        data = re.sub(r"[^A-Za-z0-9_.-]+", "_", cfg.data.replace("folder:", "")).strip("_")
        return Path("runs") / f"{cfg.model}-{data or 'data'}-{time.strftime('%Y%m%d-%H%M%S')}"

    @classmethod
    def create(cls, path: Path, cfg: TrainConfig, spec: DataSpec, meta: dict[str, Any]) -> RunDir:
        """Make a new run folder; refuse to overwrite an existing run."""
        run = cls(path)
        if run.config_path.exists():
            raise RunError(f"'{path}' already holds a run; continue it with --resume {path} "
                           "or choose another --out")
        (path / "samples").mkdir(parents=True, exist_ok=True)
        atomic_write(run.config_path, lambda tmp: cfg.save(Path(tmp)))
        body = json.dumps({**meta, "data_spec": spec.to_dict()}, indent=2)
        atomic_write(run.meta_path, lambda tmp: Path(tmp).write_text(body))
        return run

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """An existing run folder, checked to be one."""
        run = cls(Path(path))
        if not run.root.is_dir():
            raise RunError(f"run folder '{path}' does not exist; "
                           "pass a folder made by ganforge train")
        if not run.config_path.is_file() or not run.meta_path.is_file():
            raise RunError(f"'{path}' is not a ganforge run folder (no config.yaml/meta.json); "
                           "pass a folder made by ganforge train")
        return run

    def _text(self, path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RunError(f"cannot read '{path}': {type(exc).__name__}: {exc}") from None

    def config(self) -> TrainConfig:
        """The run's resolved config; a file that is not one is a one-line error naming it."""
        from ganforge.configure import make_config

        values, at = parse_yaml(self._text(self.config_path))
        if at is not None:
            raise RunError(f"'{self.config_path}' is not valid YAML{at}; the run folder is "
                           "damaged")
        if not isinstance(values, dict):
            raise RunError(f"'{self.config_path}' is not a mapping of option: value")
        try:  # every key and value held to its option's type and range (configure.make_config)
            return make_config(values, f"'{self.config_path}'")
        except ConfigError as exc:
            raise RunError(f"'{self.config_path}' holds an invalid option: {exc}") from None

    def meta(self) -> dict[str, Any]:
        """ganforge version, data spec and other facts recorded at creation."""
        try:
            meta = json.loads(self._text(self.meta_path))
        except (ValueError, RecursionError) as exc:
            raise RunError(f"'{self.meta_path}' is not valid JSON ({one_line(exc, 80)}); the run "
                           "folder is damaged") from None
        if not isinstance(meta, dict):
            raise RunError(f"'{self.meta_path}' is not a JSON object")
        return meta

    def spec(self) -> DataSpec:
        """What the networks were built for."""
        spec = self.meta().get("data_spec")
        problem = _spec_problem(spec)
        if problem:
            raise RunError(f"'{self.meta_path}': data_spec {problem}")
        return DataSpec.from_dict(spec)  # type: ignore[arg-type]

    @contextmanager
    def log_writer(self) -> Iterator[LogFile]:
        """Append-mode handle on the JSONL log; a failed write is a one-line error naming it."""
        with guard_write(self.log_path):
            f = self.log_path.open("a")
        try:
            yield LogFile(f, self.log_path)
        except BaseException:
            with contextlib.suppress(OSError):
                f.close()
            raise
        with guard_write(self.log_path):
            f.close()

    def read_log(self) -> list[dict[str, Any]]:
        """All log records (loss records and events); a line torn by a kill is skipped."""
        if not self.log_path.exists():
            return []
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return [r for r in map(_record, text.splitlines()) if r is not None]

    def remove_partial_writes(self) -> None:
        """Delete temporary files of writes cut short by a kill (never the files they replace)."""
        for folder in (self.root, self.checkpoint.parent):
            for tmp in folder.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    tmp.unlink()

    def truncate_log(self, step: int) -> None:
        """Drop records after `step` (they are replayed when a run resumes from that step)."""
        keep = [r for r in self.read_log() if r.get("step", 0) <= step]
        body = "".join(json.dumps(r) + "\n" for r in keep)
        atomic_write(self.log_path, lambda tmp: Path(tmp).write_text(body))


class LogFile:
    """The open JSONL log: writes that fail name the file; `rewind` drops records after a step."""

    def __init__(self, f: TextIO, path: Path) -> None:
        self._f, self.path = f, path

    def write(self, text: str) -> None:
        with guard_write(self.path):
            self._f.write(text)

    def flush(self) -> None:
        with guard_write(self.path):
            self._f.flush()

    def rewind(self, step: int) -> None:
        """Drop the records after `step` (records are in step order, so they are a suffix)."""
        self.flush()
        offset = 0
        with self.path.open("rb") as f:
            for line in f:
                record = _record(line.decode("utf-8", errors="replace"))
                if record is not None and record.get("step", 0) > step:
                    break
                offset += len(line)
        with guard_write(self.path):
            os.truncate(self.path, offset)  # the handle appends, so it writes at the new end


def _record(line: str) -> dict[str, Any] | None:
    """One log line as a record, or None for a blank, torn or foreign line."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict):
        return None
    step = record.get("step", 0)
    return record if isinstance(step, int) and not isinstance(step, bool) else None


def _spec_problem(spec: object) -> str | None:
    """What is wrong with a data_spec read from meta.json (None when it is usable)."""
    if not isinstance(spec, dict):
        return "is missing"
    shape, classes = spec.get("shape"), spec.get("num_classes")
    if spec.get("kind") not in ("image", "points"):
        return f"kind is {short(spec.get('kind'))}, expected 'image' or 'points'"
    if (not isinstance(shape, list) or not 1 <= len(shape) <= 3
            or not all(type(v) is int and 0 < v <= MAX_SIDE for v in shape)):
        return f"shape is {short(shape)}, expected 1 to 3 positive sizes"
    if classes is not None and not (type(classes) is int and 0 < classes <= MAX_SIDE):
        return f"num_classes is {short(classes)}, expected a positive integer or null"
    return None
