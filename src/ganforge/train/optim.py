"""One optimiser per phase, from the config."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ganforge.config import TrainConfig

#: Flags that say how an optimiser computes its update on this machine, not what it computes;
#: a checkpoint's values give way to the running optimiser's (a run resumes on another device).
IMPLEMENTATION_FLAGS = ("foreach", "fused", "capturable", "differentiable")
FUSED_DEVICES = ("cpu", "cuda")  # where torch has a fused Adam kernel


def make_optimizers(
    cfg: TrainConfig, groups: dict[str, list[nn.Parameter]]
) -> dict[str, torch.optim.Optimizer]:
    """Adam(lr, (beta1, beta2)) or RMSProp(lr) for each of the variant's parameter groups; Adam
    fused (one kernel over all of a group's parameters, not a Python loop) on CPU and CUDA."""
    lrs = {"D": cfg.lr_d, "G": cfg.lr_g}
    out: dict[str, torch.optim.Optimizer] = {}
    for name, params in groups.items():
        lr = lrs.get(name, cfg.lr_g)
        if cfg.optimizer == "rmsprop":
            out[name] = torch.optim.RMSprop(params, lr=lr)
        else:
            fused = bool(params) and all(p.device.type in FUSED_DEVICES for p in params)
            out[name] = torch.optim.Adam(params, lr=lr, betas=(cfg.beta1, cfg.beta2),
                                         fused=fused or None)
    return out


def with_flags_of(opt: torch.optim.Optimizer, saved: dict[str, Any]) -> dict[str, Any]:
    """`saved` (an optimiser's state dict) with `opt`'s implementation flags in every group."""
    flags = {k: opt.defaults[k] for k in IMPLEMENTATION_FLAGS if k in opt.defaults}
    return {**saved, "param_groups": [{**g, **flags} for g in saved["param_groups"]]}
