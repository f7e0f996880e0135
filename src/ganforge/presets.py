"""Model presets: the papers' defaults. `ganforge train NAME` starts from one; flags override.

The classic models' presets are here; a variant added later may register its own presets in its
own module (they are found when `ganforge.variants` is imported)."""

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
    # One batch of fakes serves D's and G's updates, as in pytorch/examples' DCGAN loop.
    {"arch": "auto", "loss": "nonsaturating", "optimizer": "adam", "lr_g": 2e-4, "lr_d": 2e-4,
     "beta1": 0.5, "beta2": 0.999, "n_critic": 1, "d_norm": "batch", "reuse_fake": True},
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

PRESETS.register(
    "dcgan-ttur",
    # Two time-scale update rule (Heusel et al. 2017): D learns faster than G. The values are
    # SAGAN's (Zhang et al. 2019, §5), the standard TTUR setting for DCGAN-style nets:
    # lr_d 4e-4, lr_g 1e-4, Adam(beta1 0, beta2 0.9).
    {"arch": "auto", "loss": "nonsaturating", "optimizer": "adam", "lr_g": 1e-4, "lr_d": 4e-4,
     "beta1": 0.0, "beta2": 0.9, "n_critic": 1, "d_norm": "batch"},
    "DCGAN with TTUR (Heusel et al. 2017): lr_d 4e-4, lr_g 1e-4, Adam(0, 0.9) as in SAGAN",
)
# Conditional models: DCGAN nets and optimiser (the papers' own MLP/SGD recipes predate DCGAN);
# grid_size 100 makes the 10x10 sample grids show one row per MNIST class.
_CONDITIONAL = {"arch": "auto", "loss": "nonsaturating", "optimizer": "adam", "lr_g": 2e-4,
                "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999, "n_critic": 1, "d_norm": "batch",
                "grid_size": 100}
PRESETS.register(
    "cgan",
    # Mirza & Osindero (2014): one-hot y concatenated to G's and D's inputs.
    {"variant": "cgan", **_CONDITIONAL},
    "CGAN (Mirza & Osindero 2014): the label enters G and D; needs labelled data",
)
PRESETS.register(
    "acgan",
    # Odena et al. (2017), appendix: Adam lr 2e-4, beta1 0.5; D with a class head.
    {"variant": "acgan", **_CONDITIONAL},
    "AC-GAN (Odena et al. 2017): D also classifies; needs labelled data",
)
PRESETS.register(
    "infogan",
    # Chen et al. (2016), appendix C.1 (MNIST): their networks (FC 1024 layers, width 64), 62
    # noise variables, one 10-way categorical and two continuous codes, lambda 1, Adam lr 2e-4
    # for D and 1e-3 for G, beta1 0.5.
    {"variant": "infogan", "arch": "infogan", "width": 64, "loss": "nonsaturating",
     "optimizer": "adam",
     "lr_g": 1e-3, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999, "n_critic": 1,
     "d_norm": "batch", "latent_dim": 62, "n_cat": 10, "n_cont": 2, "info_lambda": 1.0,
     "grid_size": 100},
    "InfoGAN (Chen et al. 2016): unsupervised codes, 1 categorical (10) + 2 continuous",
)
