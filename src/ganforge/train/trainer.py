"""The training loop (Goodfellow et al. 2014, Algorithm 1, generalised): each step walks the
variant's phases in order, each phase one optimiser step over one parameter group.

The trainer knows nothing of any particular variant: it walks the phases the variant declares
and owns optimisers, learning-rate schedules, EMA, logging, monitoring, pictures and checkpoints.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganforge.config import TrainConfig
from ganforge.data import BatchLoader
from ganforge.data.batch import Batch
from ganforge.data.dataset import TrainData
from ganforge.errors import ConfigError
from ganforge.monitor import FailureEvent, FailureMonitor
from ganforge.train.accel import (
    compile_networks,
    keep_on_device,
    to_channels_last,
    wants_channels_last,
)
from ganforge.train.checkpoint import save_checkpoint, save_weights
from ganforge.train.console import Console
from ganforge.train.ema import EMA
from ganforge.train.hooks import Hooks
from ganforge.train.interrupt import StopFlag, graceful_interrupt
from ganforge.train.optim import make_optimizers, with_flags_of
from ganforge.train.pending import Pending, Value, materialise
from ganforge.train.pictures import Pictures
from ganforge.train.precision import Precision
from ganforge.train.projection import use_projections
from ganforge.train.rng import rng_state, set_rng_state
from ganforge.train.rollback import Rollback
from ganforge.train.run import RunDir
from ganforge.train.schedule import apply_lr, lr_factor
from ganforge.variants.base import Nets, Phase, Terms, Variant

#: Steps whose values may wait on the device before they are read, whatever --log-every says.
MAX_PENDING = 1000


@dataclass
class TrainResult:
    """How a call to `Trainer.fit` ended."""

    run: RunDir
    step: int
    status: str  # "complete", "interrupted" or "failed"
    events: list[FailureEvent] = field(default_factory=list)


class Trainer:
    """Runs a variant on a dataset and writes everything into a run folder."""

    def __init__(self, cfg: TrainConfig, variant: Variant, data: TrainData, run: RunDir,
                 device: torch.device, quiet: bool = False, held_out: Batch | None = None
                 ) -> None:
        self.cfg, self.variant, self.run, self.device = cfg, variant, run, device
        keep_on_device(data, device)  # CUDA: small uint8 datasets live on the GPU
        self.loader = BatchLoader(data, cfg.batch_size, seed=cfg.seed, device=device)
        if wants_channels_last(cfg.channels_last, device, variant):
            to_channels_last(variant)
        use_projections(variant)  # 1x1-input transposed convolutions as matrix products
        self.groups = variant.param_groups()
        self.phases = checked_phases(variant, variant.phases(cfg.n_critic), self.groups)
        self.opts = make_optimizers(cfg, self.groups)
        self.precision = Precision.for_run(cfg.precision, device)
        self.base_lrs = {k: float(o.param_groups[0]["lr"]) for k, o in self.opts.items()}
        self.emas = ({k: EMA(m, cfg.ema) for k, m in variant.exports().items()}
                     if cfg.ema > 0 else {})
        if cfg.compile:
            compile_networks(variant, lambda line: print(line, flush=True))
        self.monitor = FailureMonitor(probabilistic=variant.probabilistic)
        self.pictures = Pictures(cfg, variant, data, run, held_out)
        n = len(self.loader)
        self.total = cfg.steps if cfg.steps else (cfg.epochs or 1) * n
        self.epochs = math.ceil(self.total / n)
        # Toy runs are short and their pictures small: about 20 frames make the animation.
        toy_every = 0 if data.kind == "image" else max(1, self.total // 20)
        self.sample_every = cfg.sample_every or toy_every
        # Toy frames are drawn by step: an extra one at every epoch end would be hundreds of
        # frames for a small toy set (20,000 points, batch 100: an epoch every 200 steps).
        self.epoch_pictures = data.kind == "image"
        self.step = self.epoch = self.batch_index = 0
        self.last: dict[str, Value] = {}  # each phase's latest loss (G runs every n_critic)
        self.pending: list[Pending] = []  # steps whose values are not read yet (see _flush)
        self.epoch_sums = [0.0, 0.0, 0]  # D loss, G loss, count (for the epoch averages)
        self.events: list[FailureEvent] = []
        self.rollback = Rollback(run, cfg.max_rollbacks) if cfg.on_failure == "rollback" else None
        self.quiet = quiet
        self.hooks = Hooks.for_run(cfg, run)  # TensorBoard and other watchers

    # ----- one step -------------------------------------------------------------------------
    def _phase(self, phase: Phase, batch: Batch) -> Terms:
        """Forward, backward and optimiser step for one phase; other groups' params frozen."""
        own = {id(p) for p in self.groups[phase.group]}
        frozen = [p for g, ps in self.groups.items() if g != phase.group
                  for p in ps if id(p) not in own]
        for p in frozen:
            p.requires_grad_(False)
        opt = self.opts[phase.group]
        opt.zero_grad(set_to_none=True)
        with self.precision.autocast():  # the forward passes; losses cast to fp32
            terms = phase.loss(batch)
        self.precision.backward_step(phase.group, terms["loss"], opt)
        for p in frozen:
            p.requires_grad_(True)
        if phase.after is not None:
            phase.after()
        if phase.ema:
            exports = self.variant.exports()
            for name, ema in self.emas.items():
                ema.update(exports[name])
        return terms

    def train_step(self, batch: Batch) -> dict[str, Value]:
        """The due phases in the variant's order; returns the values to log, as 0-dim tensors
        left on the device (no host synchronisation: they are read at the log interval)."""
        self.variant.step = self.step
        apply_lr(self.opts, self.base_lrs, lr_factor(self.cfg.lr_policy, self.step, self.total,
                                                     self.cfg.lr_decay_start))
        stats: dict[str, Value] = {}
        for phase in self.phases:
            if (self.step + 1) % phase.every == 0:
                terms = self._phase(phase, batch)
                prefix = phase.group.lower() + "_"
                self.last[phase.group] = terms.pop("loss").detach()
                stats.update({k if k.startswith(prefix) else prefix + k: v.detach()
                              for k, v in terms.items()})
        stats.update({f"{g.lower()}_loss": v for g, v in self.last.items()})
        if self.cfg.lr_policy != "constant":
            stats["lr_factor"] = lr_factor(self.cfg.lr_policy, self.step, self.total,
                                           self.cfg.lr_decay_start)
        return stats

    def sample_nets(self) -> Nets:
        """The exported networks that draw samples: their EMA copies when --ema is on."""
        if self.emas:
            return {k: e.module for k, e in self.emas.items()}
        return self.variant.exports()

    # ----- the loop -------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        """Train until the step budget is spent, the user interrupts, or a failure stops it."""
        console = Console(self.total, self.step, self.quiet)
        self.variant.train()
        if self.step == 0:
            self.save()  # a last good checkpoint exists even if step 1 diverges
        status = "complete"
        try:
            with graceful_interrupt() as stop, self.run.log_writer() as log:
                while self.step < self.total and status == "complete":
                    status = self._epoch(console, log, stop)
        finally:
            console.close()
            self.hooks.close()
        if status == "complete":
            self._finish(console)
        return TrainResult(self.run, self.step, status, self.events)

    def _epoch(self, console: Console, log: Any, stop: StopFlag) -> str:
        """Run (the rest of) the current epoch; returns the status after it."""
        n, start = len(self.loader), time.perf_counter()
        for batch in self.loader.epoch(self.epoch, start=self.batch_index):
            stats = self.train_step(batch)
            self.batch_index += 1
            self.step += 1
            lrs = {g: float(o.param_groups[0]["lr"]) for g, o in self.opts.items()}
            self.pending.append(Pending(self.step, self.epoch, self.batch_index - 1, stats,
                                        round(time.time(), 3), time.perf_counter(), lrs))
            status = self._after_step(batch, console, log, stop)
            if status != "complete":  # after a rollback the epoch restarts where it went back to
                return "complete" if status == "rolled_back" else status
            if self.step >= self.total:
                break
        if self.batch_index >= n or self.step >= self.total:
            self._end_epoch(console, time.perf_counter() - start)
        return "complete"

    def _flush(self, console: Console, log: Any) -> str:
        """Read the pending steps' values in one go, then log, show and monitor them in step
        order; a failure found on the way stops or rolls back as it would have at its step."""
        pending, self.pending = self.pending, []
        status = "complete"
        for p, stats in zip(pending, materialise([p.stats for p in pending])):
            self._record(console, log, p, stats)
            if status == "complete":  # after a sound-state stop the rest is only recorded
                status = self._handle_events(self.monitor.update(p.step, stats), log)
            if status in ("rolled_back", "failed"):
                return status
        return self._stop(log) if status == "stopped" else status

    def _flush_due(self, diversity: bool, stop: StopFlag) -> bool:
        """A console line, a check, picture, snapshot, checkpoint or the epoch's end is due."""
        return ((self.batch_index - 1) % self.cfg.log_every == 0 or diversity
                or stop.requested or len(self.pending) >= MAX_PENDING
                or self.step % self.cfg.checkpoint_every == 0
                or self.batch_index >= len(self.loader) or self.step >= self.total
                or any(e and self.step % e == 0 for e in (self.sample_every,
                                                          self.cfg.snapshot_every)))

    def _record(self, console: Console, log: Any, p: Pending, stats: dict[str, float]) -> None:
        """Console line every `log_every` batches, a JSONL record every step."""
        d, g = stats.get("d_loss"), stats.get("g_loss")
        self.epoch_sums[0] += d if d is not None else 0.0
        self.epoch_sums[1] += g if g is not None else 0.0
        self.epoch_sums[2] += 1
        if p.index % self.cfg.log_every == 0:
            console.batch(p.epoch, self.epochs, p.index, len(self.loader), d, g)
        console.advance(d, g)
        log.write(json.dumps({"step": p.step, "epoch": p.epoch, **stats, "time": p.time}) + "\n")
        self.hooks.step(p.step, stats, p.lrs, p.clock)

    def _after_step(self, batch: Batch, console: Console, log: Any, stop: StopFlag) -> str:
        """Monitor (at the flush), periodic pictures and checkpoints, and Ctrl-C."""
        every = self.cfg.monitor_every if self.variant.checks_diversity else 0
        diversity = bool(every) and self.step % every == 0
        if self._flush_due(diversity, stop):
            status = self._flush(console, log)
            if status != "complete":
                return status
        if diversity:
            fake = self.pictures.fixed_samples(self.sample_nets())
            real = self.pictures.real_reference(batch.x)
            status = self._handle_events(self.monitor.check_diversity(self.step, fake, real), log)
            if status != "complete":
                return self._stop(log) if status == "stopped" else status
        if self.sample_every and self.step % self.sample_every == 0:
            self._picture(f"step_{self.step:07d}")
        if self.cfg.snapshot_every and self.step % self.cfg.snapshot_every == 0:
            self.write_exports(self.run.root / "snapshots" / f"step_{self.step:07d}")
        if self.step % self.cfg.checkpoint_every == 0 or stop.requested:
            log.flush()
            self.save()
        if stop.requested:
            print(f"Checkpoint saved at step {self.step}; continue with: "
                  f"ganforge train --resume {self.run.root}", flush=True)
            return "interrupted"
        return "complete"

    def _handle_events(self, events: list[FailureEvent], log: Any) -> str:
        """Print the diagnosis and record it; "rolled_back", "failed" (fatal: the state is
        unsound), "stopped" (--on-failure stop, the state is sound) or "complete"."""
        for event in events:
            self.events.append(event)
            print(event.format(), flush=True)
            self.hooks.event(event)
            log.write(json.dumps({"step": event.step, "event": event.to_dict()}) + "\n")
            if self.rollback is not None and self.rollback.recover(self, event, log):
                return "rolled_back"
            if event.fatal:
                return self._stop(log, keep=False)
            if self.cfg.on_failure == "stop":
                return "stopped"
        return "complete"

    def _stop(self, log: Any, keep: bool = True) -> str:
        """Stop training after a failure, saving the state when it is sound (`keep`)."""
        log.flush()
        if keep:
            self.save()
        print(f"Training stopped at step {self.step}: {self.events[-1].kind}. The last good "
              f"checkpoint is {self.run.checkpoint}.", flush=True)
        return "failed"

    def _picture(self, tag: str) -> None:
        """Save the picture of this moment as samples/<tag>.png and tell the hooks."""
        path = self.pictures.save(tag, self.step, self.sample_nets())
        if path is not None:
            self.hooks.picture(self.step, tag, path)

    def _end_epoch(self, console: Console, seconds: float) -> None:
        """Epoch summary, sample grid, checkpoint."""
        d_sum, g_sum, count = self.epoch_sums
        console.epoch_end(self.epoch, seconds, g_sum / max(count, 1), d_sum / max(count, 1))
        if self.epoch_pictures:
            self._picture(f"epoch_{self.epoch:03d}")
        if self.batch_index >= len(self.loader):
            self.epoch += 1
            self.batch_index = 0
            self.epoch_sums = [0.0, 0.0, 0]
        self.save()

    def _finish(self, console: Console) -> None:
        """Final weights, loss curve, animations and the HTML report."""
        from ganforge.report import write_report  # late: the report reads what this writes

        self.write_exports(self.run.root)
        self.pictures.finish()
        self.save()
        write_report(self.run.root, config=self.cfg.to_dict())
        console.write("Training complete and models saved.")

    def write_exports(self, folder: Path) -> None:
        """Each exported network (its EMA copy with --ema) as `folder/<name>.safetensors`."""
        for name, net in self.sample_nets().items():
            save_weights(folder / f"{name}.safetensors", net)

    # ----- checkpoints ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue bitwise: networks, optimisers, counters, RNG, config."""
        return {
            "variant": self.variant.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in self.opts.items()},
            "ema": {k: e.module.state_dict() for k, e in self.emas.items()},
            "base_lrs": dict(self.base_lrs),
            "counters": {"step": self.step, "epoch": self.epoch, "batch_index": self.batch_index,
                         "last": {k: float(v) for k, v in self.last.items()},
                         "epoch_sums": self.epoch_sums},
            "monitor": self.monitor.state_dict(),
            "amp": self.precision.state_dict(),
            "rng": rng_state(),
            "config": self.cfg.to_dict(),
        }

    def save(self) -> None:
        """Write the checkpoint atomically."""
        save_checkpoint(self.run.checkpoint, self.state_dict())

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a checkpoint written by `save`."""
        self.variant.load_state_dict(state["variant"])
        for k, o in self.opts.items():
            o.load_state_dict(with_flags_of(o, state["optimizers"][k]))
        for name, ema in self.emas.items():
            ema.module.load_state_dict(state["ema"][name])
        self.base_lrs = {k: float(v) for k, v in state["base_lrs"].items()}
        c = state["counters"]
        self.step, self.epoch, self.batch_index = c["step"], c["epoch"], c["batch_index"]
        self.last, self.epoch_sums = dict(c["last"]), list(c["epoch_sums"])
        self.monitor.load_state_dict(state["monitor"])
        self.precision.load_state_dict(state.get("amp", {}))
        set_rng_state(state["rng"])


def checked_phases(variant: Variant, phases: list[Phase], groups: dict[str, list[nn.Parameter]]
                   ) -> list[Phase]:
    """Refuse phases over unknown parameter groups and groups that no phase trains."""
    name = type(variant).__name__
    unknown = sorted({p.group for p in phases} - set(groups))
    if unknown:
        raise ConfigError(f"{name}.phases() names parameter group(s) {', '.join(unknown)}, "
                          f"which param_groups() does not define (it has {', '.join(groups)})")
    idle = sorted(set(groups) - {p.group for p in phases})
    if idle:
        raise ConfigError(f"{name}.param_groups() defines {', '.join(idle)}, which no phase "
                          "trains; add a Phase for it or drop the group")
    if any(p.every < 1 for p in phases):
        raise ConfigError(f"{name}.phases(): every phase needs every >= 1")
    return phases
