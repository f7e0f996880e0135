"""Model presets: the papers' defaults. `ganforge train NAME` starts from one; flags override."""

from __future__ import annotations

from typing import Any

from ganforge.registry import Registry

PRESETS: Registry[dict[str, Any]] = Registry("model")

PRESETS.register(
    "gan",
    # Goodfellow et al. (2014): MLPs, k=1 D step per G step as in the paper's experiments, and
    # the non-saturating G loss the paper recommends in practice (--loss minimax for eq. 1).
    # Adam(2e-4, 0.5) replaces the paper's SGD with momentum, as every maintained script does.
    {"arch": "mlp", "loss": "nonsaturating", "optimizer": "adam", "lr_g": 2e-4, "lr_d": 2e-4,
     "beta1": 0.5, "beta2": 0.999, "n_critic": 1},
    "vanilla GAN (Goodfellow et al. 2014): MLP G and D",
)
PRESETS.register(
    "dcgan",
    # Radford et al. (2016) §4: Adam lr 2e-4, beta1 0.5, batch 128 (64 here for CPU speed).
    {"arch": "auto", "loss": "nonsaturating", "optimizer": "adam", "lr_g": 2e-4, "lr_d": 2e-4,
     "beta1": 0.5, "beta2": 0.999, "n_critic": 1, "d_norm": "batch"},
    "DCGAN (Radford et al. 2016): conv nets, BatchNorm, Adam 2e-4",
)
PRESETS.register(
    "wgan",
    # Arjovsky et al. (2017) Algorithm 1: c = 0.01, RMSProp lr 5e-5, n_critic 5.
    {"arch": "auto", "loss": "wasserstein", "optimizer": "rmsprop", "lr_g": 5e-5, "lr_d": 5e-5,
     "n_critic": 5, "clip": 0.01, "d_norm": "batch"},
    "WGAN (Arjovsky et al. 2017): weight clipping 0.01, RMSProp 5e-5, n_critic 5",
)
PRESETS.register(
    "wgan-gp",
    # Gulrajani et al. (2017) Algorithm 1: lambda 10, n_critic 5, Adam(1e-4, 0, 0.9); the critic
    # has no BatchNorm because the penalty is per sample.
    {"arch": "auto", "loss": "wasserstein", "optimizer": "adam", "lr_g": 1e-4, "lr_d": 1e-4,
     "beta1": 0.0, "beta2": 0.9, "n_critic": 5, "gp_weight": 10.0, "d_norm": "none"},
    "WGAN-GP (Gulrajani et al. 2017): gradient penalty 10, Adam(1e-4, 0, 0.9), n_critic 5",
)
PRESETS.register(
    "lsgan",
    # Mao et al. (2017): least-squares loss with a=0, b=1, c=1, Adam lr 2e-4, beta1 0.5.
    {"arch": "auto", "loss": "lsgan", "optimizer": "adam", "lr_g": 2e-4, "lr_d": 2e-4,
     "beta1": 0.5, "beta2": 0.999, "n_critic": 1, "d_norm": "batch"},
    "LSGAN (Mao et al. 2017): least squares, a=0 b=1 c=1",
)


def preset_values(name: str) -> dict[str, Any]:
    """The config values of preset `name` (with `model` set), failing with the valid names."""
    values = dict(PRESETS.get(name))
    values.setdefault("variant", "unconditional")
    values["model"] = name
    return values
