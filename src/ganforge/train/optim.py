"""One optimiser per phase, from the config."""

from __future__ import annotations

import torch
from torch import nn

from ganforge.config import TrainConfig


def make_optimizers(
    cfg: TrainConfig, groups: dict[str, list[nn.Parameter]]
) -> dict[str, torch.optim.Optimizer]:
    """Adam(lr, (beta1, beta2)) or RMSProp(lr) for each of the variant's parameter groups."""
    lrs = {"D": cfg.lr_d, "G": cfg.lr_g}
    out: dict[str, torch.optim.Optimizer] = {}
    for name, params in groups.items():
        lr = lrs.get(name, cfg.lr_g)
        if cfg.optimizer == "rmsprop":
            out[name] = torch.optim.RMSprop(params, lr=lr)
        else:
            out[name] = torch.optim.Adam(params, lr=lr, betas=(cfg.beta1, cfg.beta2))
    return out
