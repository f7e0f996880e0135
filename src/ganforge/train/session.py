"""Starting and resuming runs: data, device, variant, run folder, trainer."""

from __future__ import annotations

import contextlib
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
from ganforge.train.distributed import (
    World,
    broadcast,
    check_config,
    from_main,
    joined,
    local_first,
    trainer_class,
    training_device,
)
from ganforge.train.lock import RunLock
from ganforge.train.precision import Precision
from ganforge.train.restore import restore
from ganforge.train.rng import seed_everything
from ganforge.train.run import RunDir
from ganforge.train.trainer import TrainResult
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
    """Train a new run described by `cfg` (under torchrun: this process's part of it)."""
    validate(cfg)
    with joined() as world:
        return _start(cfg, world, quiet or not world.main)


def _start(cfg: TrainConfig, world: World, quiet: bool) -> TrainResult:
    """`start` in one process of `world`: rank 0 alone makes (and locks) the run folder."""
    check_config(cfg, world)
    device = training_device(cfg.device, world) or resolve_device(cfg.device)
    precision = Precision.for_run(cfg.precision, device)  # fp16 on a CPU fails here
    set_threads(cfg.threads)
    data = local_first(lambda: load_data(cfg), world)
    seed_everything(cfg.seed)
    variant = build_variant(cfg, spec_of(data)).to(device)
    out = broadcast(Path(cfg.out) if cfg.out else RunDir.default_path(cfg), world)
    with contextlib.ExitStack() as held:
        def create() -> RunDir:
            held.enter_context(RunLock(out))
            meta = {**_meta(cfg, data, device, precision), **({"processes": world.size}
                                                  if world.distributed else {})}
            return RunDir.create(out, dataclasses.replace(cfg, out=str(out)), spec_of(data), meta)

        run = from_main(create, world)
        if not quiet:
            print(f"Run folder: {run.root}  ({cfg.model} on {cfg.data}, {len(data)} examples, "
                  f"{_where(device, world)})", flush=True)
        trainer = trainer_class(world)(cfg, variant, data, run, device, quiet=quiet,
                                       held_out=held_out_batch(cfg, variant, device))
        return trainer.fit()


def _where(device: torch.device, world: World) -> str:
    return f"{device} x {world.size} processes" if world.distributed else str(device)


def resume(path: str | Path, overrides: dict[str, Any] | None = None, quiet: bool = False
           ) -> TrainResult:
    """Continue a run from its last checkpoint; only `RESUME_OVERRIDES` may change."""
    with joined() as world, contextlib.ExitStack() as held:
        def open_run() -> tuple[RunDir, TrainConfig, DataSpec, dict[str, Any]]:
            run = RunDir.open(path)
            lock = held.enter_context(RunLock(run.root))
            if lock.took_over and not quiet:
                print(f"note: took over the lock of process {lock.took_over.get('pid')}, which "
                      "is no longer running", flush=True)
            run.remove_partial_writes()
            cfg = _resumed_config(run, overrides)
            state = load_checkpoint(run.checkpoint)
            return run, cfg, run.spec(), state

        run, cfg, spec, state = from_main(open_run, world)  # the others get rank 0's reading
        return _resume(run, cfg, spec, state, bool(overrides), world, quiet or not world.main)


def _resumed_config(run: RunDir, overrides: dict[str, Any] | None) -> TrainConfig:
    """The config of a resumed run, with `overrides` (only `RESUME_OVERRIDES` may change)."""
    cfg = run.config()
    bad = sorted(set(overrides or {}) - set(RESUME_OVERRIDES))
    if bad:
        flags = ", ".join("--" + b.replace("_", "-") for b in bad)
        raise ConfigError(f"cannot change {flags} when resuming; start a new run with --out")
    cfg = validate(dataclasses.replace(cfg, **(overrides or {})))
    if overrides and ("steps" in overrides or "epochs" in overrides):
        # the budget given now replaces the old one entirely (--epochs 10 drops an old --steps)
        cfg = dataclasses.replace(cfg, steps=overrides.get("steps"), epochs=overrides.get("epochs"))
    return cfg


def _resume(run: RunDir, cfg: TrainConfig, spec: DataSpec, state: dict[str, Any],
            overridden: bool, world: World, quiet: bool) -> TrainResult:
    """`resume` in one process of `world`, with the run folder locked by rank 0."""
    device = training_device(cfg.device, world) or resolve_device(cfg.device)
    set_threads(cfg.threads)
    data = local_first(lambda: load_data(cfg), world)
    seed_everything(cfg.seed)
    variant = build_variant(cfg, spec).to(device)
    trainer = trainer_class(world)(cfg, variant, data, run, device, quiet=quiet,
                                   held_out=held_out_batch(cfg, variant, device))
    restore(trainer, state, run.checkpoint)

    def rewrite() -> None:
        run.truncate_log(trainer.step)
        if overridden:
            atomic_write(run.config_path, lambda tmp: cfg.save(Path(tmp)))

    from_main(rewrite, world)
    if not quiet:
        print(f"Resuming {run.root} at step {trainer.step} of {trainer.total}", flush=True)
    return trainer.fit()
