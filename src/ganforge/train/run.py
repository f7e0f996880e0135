"""The run folder: config, loss log, sample grids, pictures, checkpoints and final weights.

A run folder alone is enough to reload and resample: config.yaml + meta.json + the weights.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml

from ganforge.config import TrainConfig
from ganforge.data.spec import DataSpec
from ganforge.errors import RunError
from ganforge.train.checkpoint import atomic_write


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

    def config(self) -> TrainConfig:
        """The run's resolved config."""
        from ganforge.configure import make_config

        values = yaml.safe_load(self.config_path.read_text()) or {}
        return make_config(values, f"'{self.config_path}'")

    def meta(self) -> dict[str, Any]:
        """ganforge version, data spec and other facts recorded at creation."""
        return json.loads(self.meta_path.read_text())

    def spec(self) -> DataSpec:
        """What the networks were built for."""
        return DataSpec.from_dict(self.meta()["data_spec"])

    @contextmanager
    def log_writer(self) -> Iterator[TextIO]:
        """Append-mode handle on the JSONL log."""
        with self.log_path.open("a") as f:
            yield f

    def read_log(self) -> list[dict[str, Any]]:
        """All log records (loss records and events)."""
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line]

    def truncate_log(self, step: int) -> None:
        """Drop records after `step` (they are replayed when a run resumes from that step)."""
        keep = [r for r in self.read_log() if r.get("step", 0) <= step]
        body = "".join(json.dumps(r) + "\n" for r in keep)
        atomic_write(self.log_path, lambda tmp: Path(tmp).write_text(body))
