"""Restoring a trainer from a checkpoint that may come from elsewhere: everything that would
make training crash later (networks of another shape, optimiser state of another kind, counters
of the wrong type) is found here and reported as one line naming the file."""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from ganforge.errors import RunError
from ganforge.train.checkpoint import load_module, one_line, short

if TYPE_CHECKING:
    from ganforge.train.trainer import Trainer

MAX_COUNT = 1 << 40  # steps or epochs beyond this are not a real run's (and overflow seeds)
#: What `Trainer.load_state_dict` raises on a structure it cannot use.
_LOAD_ERRORS = (KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError)


def restore(trainer: Trainer, state: dict[str, Any], path: Path) -> None:
    """Load a checkpoint read by `load_checkpoint` into `trainer`, or raise a one-line RunError."""
    load_module(trainer.variant, state.get("variant"), path,
                "the networks config.yaml and meta.json describe")
    emas = state.get("ema") or {}
    if not isinstance(emas, dict) or set(emas) != set(trainer.emas):
        has = ", ".join(map(str, emas)) if isinstance(emas, dict) and emas else "none"
        want = ", ".join(trainer.emas) or "none (no --ema)"
        raise RunError(f"checkpoint '{path}' has EMA copies of {has} but config.yaml asks for "
                       f"{want}")
    for name, ema in trainer.emas.items():
        load_module(ema.module, emas[name], path, f"the EMA copy of {name} of this run")
    _check_counters(state.get("counters"), path, len(trainer.loader))
    _check_base_lrs(state.get("base_lrs"), path, tuple(trainer.opts))
    try:
        trainer.load_state_dict(state)
    except _LOAD_ERRORS as exc:
        raise RunError(f"checkpoint '{path}' is damaged or from another kind of run "
                       f"({one_line(exc, 100)})") from None
    for name, opt in trainer.opts.items():
        problem = optimizer_problem(opt)
        if problem:
            raise RunError(f"checkpoint '{path}': the state of optimiser {name} {problem}")


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_counters(counters: object, path: Path, batches: int) -> None:
    """Step, epoch and batch index are integers in range; the loss sums are numbers."""
    if not isinstance(counters, dict):
        raise RunError(f"checkpoint '{path}' has no counters (step, epoch); it is damaged")
    for key, top in (("step", MAX_COUNT), ("epoch", MAX_COUNT), ("batch_index", batches)):
        value = counters.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
            raise RunError(f"checkpoint '{path}': counter '{key}' is {short(value)}, "
                           f"not an integer in 0..{top}")
    last, sums = counters.get("last"), counters.get("epoch_sums")
    if not isinstance(last, dict) or not all(map(_is_real, last.values())):
        raise RunError(f"checkpoint '{path}': 'last' is {short(last)}, not a map of phase to "
                       "loss")
    if not isinstance(sums, (list, tuple)) or len(sums) != 3 or not all(map(_is_real, sums)):
        raise RunError(f"checkpoint '{path}': 'epoch_sums' is {short(sums)}, not three numbers")


def _check_base_lrs(base: object, path: Path, groups: tuple[str, ...]) -> None:
    """One positive base learning rate per optimiser (the schedule scales them)."""
    if (not isinstance(base, dict) or set(base) != set(groups)
            or not all(_is_real(v) and v > 0 for v in base.values())):
        raise RunError(f"checkpoint '{path}': 'base_lrs' is {short(base)}, expected a positive "
                       f"learning rate for each of {', '.join(groups)}")


def _same_kind(default: object, value: object) -> bool:
    """`value` can stand where the optimiser's default hyperparameter `default` stands; flags
    (amsgrad, foreach, fused, …) never change within a run, numbers may (rollback halves lr)."""
    if isinstance(default, bool) or default is None:
        return value is default
    if _is_real(default):
        return _is_real(value)
    if isinstance(default, (tuple, list)):
        return (isinstance(value, (tuple, list)) and len(value) == len(default)
                and all(map(_same_kind, default, value)))
    return True


def _expected_state(opt: torch.optim.Optimizer) -> dict[str, Tensor]:
    """The per-parameter state one real step of this optimiser class creates (on a probe)."""
    probe = torch.zeros(2, requires_grad=True)
    twin = type(opt)([probe], **opt.defaults)
    probe.grad = torch.ones(2)
    twin.step()
    return dict(twin.state[probe])


def optimizer_problem(opt: torch.optim.Optimizer) -> str | None:
    """What would make `opt.step()` fail with the state it holds (None when it is usable)."""
    expected = _expected_state(opt)
    for group in opt.param_groups:
        for key, default in opt.defaults.items():
            if not _same_kind(default, group.get(key)):
                return f"has {key} = {short(group.get(key))}, unlike {default!r}"
        for p in group["params"]:
            state = opt.state.get(p) or {}
            if not state:
                continue
            if set(state) != set(expected):
                return f"holds entries {sorted(state)}, expected {sorted(expected)}"
            for key, value in state.items():
                want = p.shape if expected[key].dim() else torch.Size([])
                if not isinstance(value, Tensor) or value.shape != want:
                    got = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
                    return f"has '{key}' of shape {got}, expected {tuple(want)}"
    return None
