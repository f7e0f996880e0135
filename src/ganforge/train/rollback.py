"""`--on-failure rollback`: on NaN or Inf, go back to the last good checkpoint with both learning
rates halved and carry on, at most `--max-rollbacks` times; then training stops as it does
without rollback. Each rollback is a "rollback" event in log.jsonl, so the count survives a
resume."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import torch

from ganforge.monitor import FailureEvent
from ganforge.train.checkpoint import load_checkpoint
from ganforge.train.restore import restore
from ganforge.train.run import LogFile, RunDir

if TYPE_CHECKING:
    from ganforge.train.trainer import Trainer

ROLLBACK = "rollback"


def is_rollback(record: dict[str, Any]) -> bool:
    """A log record noting a rollback."""
    event = record.get("event")
    return isinstance(event, dict) and event.get("kind") == ROLLBACK


def halve_learning_rates(trainer: Trainer) -> dict[str, float]:
    """Base rate <- base rate / 2 for every optimiser (the schedule scales the base rates each
    step), and the current rates with them; returns the new base rate of each."""
    for name, opt in trainer.opts.items():
        trainer.base_lrs[name] *= 0.5
        for group in opt.param_groups:
            group["lr"] = group["lr"] * 0.5
    return dict(trainer.base_lrs)


def _finite(weights: object) -> bool:
    """Every floating tensor of a state dict is finite."""
    return isinstance(weights, dict) and all(
        bool(torch.isfinite(v).all()) for v in weights.values()
        if isinstance(v, torch.Tensor) and v.is_floating_point())


class Rollback:
    """Counts rollbacks of one run and performs them."""

    def __init__(self, run: RunDir, limit: int) -> None:
        self.run, self.limit = run, limit
        self.count = sum(map(is_rollback, run.read_log()))

    def recover(self, trainer: Trainer, event: FailureEvent, log: LogFile) -> bool:
        """Restore the last good checkpoint into `trainer` and halve its learning rates; False
        (training stops) when the rollbacks are spent or the checkpoint is not finite."""
        if not event.fatal:
            return False
        if self.count >= self.limit:
            print(f"[ganforge] step {event.step}: all {self.limit} rollbacks are spent", flush=True)
            return False
        state = load_checkpoint(self.run.checkpoint)
        if not _finite(state.get("variant")):
            print(f"[ganforge] step {event.step}: the last checkpoint holds non-finite weights; "
                  "nothing to roll back to", flush=True)
            return False
        restore(trainer, state, self.run.checkpoint)
        lrs = halve_learning_rates(trainer)
        self.count += 1
        rates = ", ".join(f"{name} {lr:.3g}" for name, lr in lrs.items())
        note = FailureEvent(ROLLBACK, event.step, f"{event.kind} at step {event.step}: rolled "
                            f"back to the checkpoint of step {trainer.step} with both learning "
                            f"rates halved (lr {rates}); rollback {self.count} of {self.limit}")
        log.rewind(trainer.step)  # the abandoned steps are replayed
        record = {**note.to_dict(), "to_step": trainer.step, "lr": lrs, "count": self.count}
        log.write(json.dumps({"step": trainer.step, "event": record}) + "\n")
        log.flush()
        print(note.format(), flush=True)
        return True
