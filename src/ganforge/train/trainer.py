"""The training loop (Goodfellow et al. 2014, Algorithm 1): k = n_critic discriminator steps per
generator step, one optimiser per network, fixed noise for the sample grids.

The trainer knows nothing of any particular variant: it walks phases "D" and "G" over the
variant's parameter groups and owns optimisers, EMA, logging, monitoring and checkpoints.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.config import TrainConfig
from ganforge.data import BatchLoader, InMemoryDataset
from ganforge.data.batch import Batch
from ganforge.monitor import FailureEvent, FailureMonitor
from ganforge.train.checkpoint import save_checkpoint, save_weights
from ganforge.train.console import Console
from ganforge.train.ema import EMA
from ganforge.train.interrupt import StopFlag, graceful_interrupt
from ganforge.train.optim import make_optimizers
from ganforge.train.pictures import Pictures
from ganforge.train.rng import rng_state, set_rng_state
from ganforge.train.rollback import Rollback
from ganforge.train.run import RunDir
from ganforge.variants.base import Variant


@dataclass
class TrainResult:
    """How a call to `Trainer.fit` ended."""

    run: RunDir
    step: int
    status: str  # "complete", "interrupted" or "failed"
    events: list[FailureEvent] = field(default_factory=list)


class Trainer:
    """Runs a variant on a dataset and writes everything into a run folder."""

    def __init__(self, cfg: TrainConfig, variant: Variant, data: InMemoryDataset, run: RunDir,
                 device: torch.device, quiet: bool = False) -> None:
        self.cfg, self.variant, self.run, self.device = cfg, variant, run, device
        self.loader = BatchLoader(data, cfg.batch_size, seed=cfg.seed, device=device)
        self.groups = variant.param_groups()
        self.opts = make_optimizers(cfg, self.groups)
        self.ema = EMA(variant.generator, cfg.ema) if cfg.ema > 0 else None
        self.monitor = FailureMonitor(probabilistic=variant.probabilistic)
        self.pictures = Pictures(cfg, variant, data, run)
        n = len(self.loader)
        self.total = cfg.steps if cfg.steps else (cfg.epochs or 1) * n
        self.epochs = math.ceil(self.total / n)
        # Toy runs are short and their pictures small: about 20 frames make the animation.
        toy_every = 0 if data.kind == "image" else max(1, self.total // 20)
        self.sample_every = cfg.sample_every or toy_every
        self.step = self.epoch = self.batch_index = 0
        self.last_g: float | None = None
        self.epoch_sums = [0.0, 0.0, 0]  # D loss, G loss, count (for the epoch averages)
        self.events: list[FailureEvent] = []
        self.rollback = Rollback(run, cfg.max_rollbacks) if cfg.on_failure == "rollback" else None
        self.quiet = quiet

    # ----- one step -------------------------------------------------------------------------
    def _phase(self, name: str, loss_fn: Callable[[Batch], dict[str, Tensor]], batch: Batch
               ) -> dict[str, float]:
        """Forward, backward and optimiser step for one phase; other phases' params frozen."""
        own = {id(p) for p in self.groups[name]}
        frozen = [p for g, ps in self.groups.items() if g != name for p in ps if id(p) not in own]
        for p in frozen:
            p.requires_grad_(False)
        opt = self.opts[name]
        opt.zero_grad(set_to_none=True)
        terms = loss_fn(batch)
        terms["loss"].backward()
        opt.step()
        for p in frozen:
            p.requires_grad_(True)
        return {k: float(v.detach()) for k, v in terms.items()}

    def train_step(self, batch: Batch) -> dict[str, float]:
        """Phase D every step, phase G every `n_critic` steps; returns the values to log."""
        self.variant.step = self.step
        d = self._phase("D", self.variant.discriminator_loss, batch)
        self.variant.after_discriminator_step()
        stats = {"d_loss": d.pop("loss"), **{f"d_{k}" if k in ("adv", "gp") else k: v
                                             for k, v in d.items()}}
        if (self.step + 1) % self.cfg.n_critic == 0:
            g = self._phase("G", self.variant.generator_loss, batch)
            if self.ema is not None:
                self.ema.update(self.variant.generator)
            self.last_g = g.pop("loss")
            stats.update({f"g_{k}": v for k, v in g.items()})
        if self.last_g is not None:
            stats["g_loss"] = self.last_g
        return stats

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
            self._record(console, log, stats)
            status = self._after_step(batch, stats, log, stop)
            if status != "complete":  # after a rollback the epoch restarts where it went back to
                return "complete" if status == "rolled_back" else status
            if self.step >= self.total:
                break
        if self.batch_index >= n or self.step >= self.total:
            self._end_epoch(console, time.perf_counter() - start)
        return "complete"

    def _record(self, console: Console, log: Any, stats: dict[str, float]) -> None:
        """Console line every `log_every` batches, a JSONL record every step."""
        d, g = stats["d_loss"], stats.get("g_loss")
        self.epoch_sums[0] += d
        self.epoch_sums[1] += g if g is not None else 0.0
        self.epoch_sums[2] += 1
        i = self.batch_index - 1
        if i % self.cfg.log_every == 0:
            console.batch(self.epoch, self.epochs, i, len(self.loader), d, g)
        console.advance(d, g)
        log.write(json.dumps({"step": self.step, "epoch": self.epoch, **stats}) + "\n")

    def _after_step(self, batch: Batch, stats: dict[str, float], log: Any, stop: StopFlag) -> str:
        """Monitor, periodic pictures and checkpoints, and Ctrl-C."""
        events = self.monitor.update(self.step, stats)
        every = self.cfg.monitor_every
        if every and self.step % every == 0:
            fake = self.pictures.fixed_samples(self.ema)
            events += self.monitor.check_diversity(self.step, fake, batch.x)
        status = self._handle_events(events, log)
        if status != "complete":
            return status
        if self.sample_every and self.step % self.sample_every == 0:
            self.pictures.save(f"step_{self.step:07d}", self.step, self.ema)
        if self.step % self.cfg.checkpoint_every == 0 or stop.requested:
            log.flush()
            self.save()
        if stop.requested:
            print(f"Checkpoint saved at step {self.step}; continue with: "
                  f"ganforge train --resume {self.run.root}", flush=True)
            return "interrupted"
        return "complete"

    def _handle_events(self, events: list[FailureEvent], log: Any) -> str:
        """Print the diagnosis, record it, and stop when it is fatal or --on-failure stop."""
        for event in events:
            self.events.append(event)
            print(event.format(), flush=True)
            log.write(json.dumps({"step": self.step, "event": event.to_dict()}) + "\n")
            if self.rollback is not None and self.rollback.recover(self, event, log):
                return "rolled_back"
            if event.fatal or self.cfg.on_failure == "stop":
                log.flush()
                if not event.fatal:  # the state is sound: keep it
                    self.save()
                print(f"Training stopped at step {self.step}: {event.kind}. The last good "
                      f"checkpoint is {self.run.checkpoint}.", flush=True)
                return "failed"
        return "complete"

    def _end_epoch(self, console: Console, seconds: float) -> None:
        """Epoch summary, sample grid, checkpoint."""
        d_sum, g_sum, count = self.epoch_sums
        console.epoch_end(self.epoch, seconds, g_sum / max(count, 1), d_sum / max(count, 1))
        self.pictures.save(f"epoch_{self.epoch:03d}", self.step, self.ema)
        if self.batch_index >= len(self.loader):
            self.epoch += 1
            self.batch_index = 0
            self.epoch_sums = [0.0, 0.0, 0]
        self.save()

    def _finish(self, console: Console) -> None:
        """Final weights, loss curve and animations."""
        save_weights(self.run.generator_weights, generator_module(self.variant, self.ema))
        self.pictures.finish()
        self.save()
        console.write("Training complete and models saved.")

    # ----- checkpoints ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue bitwise: networks, optimisers, counters, RNG, config."""
        return {
            "variant": self.variant.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in self.opts.items()},
            "ema": self.ema.module.state_dict() if self.ema is not None else None,
            "counters": {"step": self.step, "epoch": self.epoch, "batch_index": self.batch_index,
                         "last_g": self.last_g, "epoch_sums": self.epoch_sums},
            "monitor": self.monitor.state_dict(),
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
            o.load_state_dict(state["optimizers"][k])
        if self.ema is not None and state.get("ema") is not None:
            self.ema.module.load_state_dict(state["ema"])
        c = state["counters"]
        self.step, self.epoch, self.batch_index = c["step"], c["epoch"], c["batch_index"]
        self.last_g, self.epoch_sums = c["last_g"], list(c["epoch_sums"])
        self.monitor.load_state_dict(state["monitor"])
        set_rng_state(state["rng"])


def generator_module(variant: Variant, ema: EMA | None) -> nn.Module:
    """The generator used for samples: the EMA copy when --ema is on."""
    return ema.module if ema is not None else variant.generator
