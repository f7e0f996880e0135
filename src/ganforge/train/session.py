"""Starting and resuming runs: data, device, variant, run folder, trainer."""

from __future__ import annotations

import dataclasses
import datetime
import platform
from pathlib import Path
from typing import Any

import torch

from ganforge.config import TrainConfig, validate
from ganforge.data import load_dataset
from ganforge.data.batch import Batch
from ganforge.data.dataset import TrainData
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError
from ganforge.train.accel import set_threads
from ganforge.train.checkpoint import atomic_write, load_checkpoint
from ganforge.train.lock import RunLock
from ganforge.train.precision import Precision
from ganforge.train.restore import restore
from ganforge.train.rng import seed_everything
from ganforge.train.run import RunDir
from ganforge.train.trainer import Trainer, TrainResult
from ganforge.variants import Variant, build_variant

#: Options that may change when a run is resumed; everything else defines the run.
RESUME_OVERRIDES = ("epochs", "steps", "log_every", "on_failure", "max_rollbacks", "device",
                    "sample_every", "checkpoint_every", "monitor_every", "data_dir",
                    "snapshot_every", "tensorboard", "threads")


def resolve_device(name: str) -> torch.device:
    """`auto` picks cuda, then mps, then cpu; an unavailable device is a one-line error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA GPU is visible to this torch build; "
                          "use --device cpu or auto")
    if name == "mps" and not (getattr(torch.backends, "mps", None)
                              and torch.backends.mps.is_available()):
        raise ConfigError("--device mps: Apple's MPS is not available here; "
                          "use --device cpu or auto")
    return torch.device(name)


def load_data(cfg: TrainConfig, split: str = "train") -> TrainData:
    """The training data as the config asks for it."""
    return load_dataset(cfg.data, split=split, data_dir=cfg.data_dir, image_size=cfg.image_size,
                        channels=cfg.channels, seed=cfg.seed, direction=cfg.direction)


HELD_OUT_SPLIT = "test"


def held_out_batch(cfg: TrainConfig, variant: Variant, device: torch.device) -> Batch | None:
    """The fixed batch a variant previews on (the first `grid_size` test examples, centre-
    cropped, unflipped), when its previews come from held-out data."""
    if variant.preview_source != "held_out":
        return None
    data = load_data(cfg, HELD_OUT_SPLIT)
    idx = torch.arange(min(cfg.grid_size, len(data)))
    return data.make_batch(idx, device, gen=None)


def spec_of(data: TrainData) -> DataSpec:
    """The data facts a variant is built from."""
    return data.spec()


def _meta(cfg: TrainConfig, data: TrainData, device: torch.device, precision: Precision
          ) -> dict[str, Any]:
    from ganforge._version import __version__

    return {"ganforge_version": __version__, "torch_version": torch.__version__,
            "created": datetime.datetime.now().isoformat(timespec="seconds"),
            "machine": platform.platform(), "device": str(device), "n_train": len(data),
            "skipped_files": data.skipped, "precision": precision.name,
            "precision_why": precision.why, "threads": torch.get_num_threads()}


def start(cfg: TrainConfig, quiet: bool = False) -> TrainResult:
    """Train a new run described by `cfg`."""
    validate(cfg)
    device = resolve_device(cfg.device)
    precision = Precision.for_run(cfg.precision, device)  # fp16 on a CPU fails here
    set_threads(cfg.threads)
    data = load_data(cfg)
    seed_everything(cfg.seed)
    variant = build_variant(cfg, spec_of(data)).to(device)
    out = Path(cfg.out) if cfg.out else RunDir.default_path(cfg)
    with RunLock(out):
        run = RunDir.create(out, dataclasses.replace(cfg, out=str(out)), spec_of(data),
                            _meta(cfg, data, device, precision))
        if not quiet:
            print(f"Run folder: {run.root}  ({cfg.model} on {cfg.data}, {len(data)} examples, "
                  f"{device})", flush=True)
        trainer = Trainer(cfg, variant, data, run, device, quiet=quiet,
                          held_out=held_out_batch(cfg, variant, device))
        return trainer.fit()


def resume(path: str | Path, overrides: dict[str, Any] | None = None, quiet: bool = False
           ) -> TrainResult:
    """Continue a run from its last checkpoint; only `RESUME_OVERRIDES` may change."""
    run = RunDir.open(path)
    with RunLock(run.root) as lock:
        if lock.took_over and not quiet:
            print(f"note: took over the lock of process {lock.took_over.get('pid')}, which is no "
                  "longer running", flush=True)
        return _resume(run, overrides, quiet)


def _resume(run: RunDir, overrides: dict[str, Any] | None, quiet: bool) -> TrainResult:
    """`resume`, with the run folder locked."""
    run.remove_partial_writes()
    cfg = run.config()
    bad = sorted(set(overrides or {}) - set(RESUME_OVERRIDES))
    if bad:
        flags = ", ".join("--" + b.replace("_", "-") for b in bad)
        raise ConfigError(f"cannot change {flags} when resuming; start a new run with --out")
    cfg = validate(dataclasses.replace(cfg, **(overrides or {})))
    if overrides and ("steps" in overrides or "epochs" in overrides):
        # the budget given now replaces the old one entirely (--epochs 10 drops an old --steps)
        cfg = dataclasses.replace(cfg, steps=overrides.get("steps"), epochs=overrides.get("epochs"))
    state = load_checkpoint(run.checkpoint)
    device = resolve_device(cfg.device)
    set_threads(cfg.threads)
    data = load_data(cfg)
    seed_everything(cfg.seed)
    variant = build_variant(cfg, run.spec()).to(device)
    trainer = Trainer(cfg, variant, data, run, device, quiet=quiet,
                      held_out=held_out_batch(cfg, variant, device))
    restore(trainer, state, run.checkpoint)
    run.truncate_log(trainer.step)
    if overrides:
        atomic_write(run.config_path, lambda tmp: cfg.save(Path(tmp)))
    if not quiet:
        print(f"Resuming {run.root} at step {trainer.step} of {trainer.total}", flush=True)
    return trainer.fit()
