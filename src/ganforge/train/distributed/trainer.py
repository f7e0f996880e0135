"""The trainer of one rank of a multi-process run. It is the single-process Trainer with:

- the variant's trained networks behind their own DDP wrappers, its training noise and each batch
  this rank's share of the global batch's (wrap.py, shard.py), BatchNorm synchronised with
  --sync-bn;
- one all-reduce per step: the logged values become their means over the ranks (so the log, the
  monitor and every decision see the same numbers on every rank) and a Ctrl-C on any rank
  stops every rank after the same step;
- rank 0's monitor events for everyone, so all ranks stop or carry on together;
- only rank 0 writes: log, pictures, weights, checkpoints and report; the others print nothing
  and take part in the collective part of a save (their own state, see state.py).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import torch

from ganforge.config import TrainConfig
from ganforge.data.batch import Batch
from ganforge.data.dataset import TrainData
from ganforge.errors import ConfigError
from ganforge.monitor import FailureEvent
from ganforge.train.checkpoint import save_checkpoint
from ganforge.train.console import Console
from ganforge.train.distributed import state as rank_states
from ganforge.train.distributed.shard import ShardedLoader, check_split
from ganforge.train.distributed.sync_bn import convert_sync_batchnorm
from ganforge.train.distributed.world import World, broadcast, mean_and_any
from ganforge.train.distributed.wrap import shard_noise, wrap_networks
from ganforge.train.hooks import Hooks
from ganforge.train.interrupt import StopFlag
from ganforge.train.pending import Value
from ganforge.train.run import LogFile, RunDir
from ganforge.train.trainer import Trainer, TrainResult
from ganforge.variants.base import Variant


def check_config(cfg: TrainConfig, world: World) -> None:
    """One-line errors for options that several processes cannot train with (checked before
    the run folder is made)."""
    if not world.distributed:
        return
    check_split(cfg.batch_size, cfg.pack, world.size)
    if cfg.on_failure == "rollback":
        raise ConfigError("--on-failure rollback is not available with several processes; "
                          "use --on-failure stop and resume from the last checkpoint")


class DistributedTrainer(Trainer):
    """Trainer of rank `World.current().rank`; see the module docstring."""

    def __init__(self, cfg: TrainConfig, variant: Variant, data: TrainData, run: RunDir,
                 device: torch.device, quiet: bool = False, held_out: Batch | None = None
                 ) -> None:
        self.world = world = World.current()
        check_config(cfg, world)
        if cfg.sync_bn:
            convert_sync_batchnorm(variant, device)
        super().__init__(cfg, variant, data, run, device, quiet=quiet or not world.main,
                         held_out=held_out)
        self.loader = ShardedLoader(self.loader, world.rank, world.size)  # type: ignore[assignment]
        wrap_networks(variant, self.groups, device)
        shard_noise(variant, world.rank, world.size)
        self.agreed, self.local_stop = StopFlag(), StopFlag()
        if not world.main:
            self.hooks = Hooks([])
            self.run = _SilentRun(run.root)

    # ----- every rank sees the same numbers and makes the same decisions ----------------------
    def train_step(self, batch: Batch) -> dict[str, Value]:
        # The all-reduce reads the values anyway: one host copy of them here costs nothing more.
        local = super().train_step(batch)
        means, stop = mean_and_any([float(v) for v in local.values()],
                                   self.local_stop.requested, self.world)
        stats: dict[str, Value] = dict(zip(local, means))
        self.last = {g: stats[f"{g.lower()}_loss"] for g in self.last}
        self.agreed.requested = self.agreed.requested or stop
        return stats

    def _epoch(self, console: Console, log: Any, stop: StopFlag) -> str:
        self.local_stop = stop  # this rank's Ctrl-C; the loop reads the agreed flag
        return super()._epoch(console, log, self.agreed)

    def _handle_events(self, events: list[FailureEvent], log: Any) -> str:
        return super()._handle_events(_main_events(events, self.world), log)

    # ----- rank 0 writes; the others only take part in saves ----------------------------------
    def fit(self) -> TrainResult:
        if self.world.main:
            return super().fit()
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            return super().fit()

    def _picture(self, tag: str) -> None:
        if self.world.main:  # drawn without touching the generators the ranks share
            devices = [self.device.index or 0] if self.device.type == "cuda" else []
            with torch.random.fork_rng(devices=devices):
                super()._picture(tag)

    def write_exports(self, folder: Any) -> None:
        if self.world.main:
            super().write_exports(folder)

    def _finish(self, console: Console) -> None:
        if self.world.main:
            super()._finish(console)
        else:
            self.save()

    def save(self) -> None:
        ranks = rank_states.gather(self.variant, self.world)
        if ranks is not None:
            state = {**self.state_dict(),
                     "distributed": {"world_size": self.world.size, "ranks": ranks}}
            save_checkpoint(self.run.checkpoint, state)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        same = rank_states.apply(self.variant, state, self.world, self.device)
        saved = (state.get("distributed") or {}).get("world_size", 1)
        if not same and self.world.main:
            print(f"note: this checkpoint was saved by {saved} process(es) and resumes on "
                  f"{self.world.size}: the same global batches, but not bitwise the steps of an "
                  "uninterrupted run", flush=True)


def _main_events(events: list[FailureEvent], world: World) -> list[FailureEvent]:
    """Rank 0's events on every rank (a count, then the events only when there are some)."""
    count = torch.tensor([len(events) if world.main else 0])
    torch.distributed.broadcast(count, src=0)
    return broadcast(events, world) if int(count) else []


class _SilentRun(RunDir):
    """The run folder as a rank other than 0 sees it: its log writer writes nothing."""

    @contextlib.contextmanager
    def log_writer(self):  # type: ignore[no-untyped-def, override]
        yield _NullLog()


class _NullLog(LogFile):
    def __init__(self) -> None:
        pass

    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass

    def rewind(self, step: int) -> None:
        pass
