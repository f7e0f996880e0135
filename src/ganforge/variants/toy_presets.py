"""Presets for the 2-D toy mixtures (ring8, grid25), the test beds of mode collapse.

The settings follow the papers' toy protocols, shrunk to a CPU budget of minutes:
- data: ring8 as in Metz et al. 2017 (8 Gaussians, radius 2, std 0.02), grid25 as in PacGAN
  (Lin et al. 2018; 5x5 at {-4..4}^2, std 0.05); see ganforge.data.toy;
- noise: 2-D standard Gaussian, as in the PacGAN code (num_zdim 2);
- networks: MLPs of 3 hidden layers of 128 (Metz et al.'s toy nets are 128 wide; PacGAN's G has
  4 layers of 400 with BatchNorm, its D 3 maxout layers of 200: about 4x our cost per step), no
  BatchNorm in G: a 2-D G with BatchNorm couples the samples of a batch (`--g-norm batch` to
  compare, a row of benchmarks/toy_modes.py);
- batch: 100 examples, as in the PacGAN code; with --pack M, 100 packs (100 M samples);
- optimiser: Adam, beta1 0.5. The PacGAN code trains 400 epochs of 1,000 steps at lr 1e-4,
  beta1 0.8; here 5e-4 for 20,000 steps, constant for the first half and then decayed linearly
  to 0 (the pix2pix schedule), which sharpens the samples onto the modes at the end;
- unrolled-toy: 5 look-ahead steps (Metz et al. show 0, 1, 5 and 10), 8,000 steps: each step
  costs about six plain ones, and the run must fit in 10 minutes on the 2-core CPU.

Not yet shown to reach the targets. The one trial so far, pacgan-toy on grid25 cut to 6,000 steps
(448 s on the shared CPU), ended at 0/25 modes with 3.6 % high-quality samples: G spread evenly
over the square, D near 0.5 everywhere, too smooth to resolve clusters of std 0.05. A likely
cause is D's sharpness budget: with N(0, 0.02) weights (dcgan_init, PacGAN's init too) and Adam
moving each weight by at most about lr per step, 6,000 steps at <= 5e-4 let a weight travel ~2,
where PacGAN's 400,000 steps at 1e-4 allow ~40 and a bump of width 0.15 needs weights of ~10.
Next to try: a longer run, lr 1e-3, and PyTorch's default init for the toy MLPs.
"""

from __future__ import annotations

from typing import Any

from ganforge.presets import PRESETS

#: The toy networks and noise, shared by every toy preset and the benchmark's remedy rows.
TOY_NETS: dict[str, Any] = {"arch": "mlp", "hidden": 128, "mlp_depth": 3, "g_norm": "none",
                            "d_norm": "none", "latent_dim": 2, "batch_size": 100}
TOY_GAN: dict[str, Any] = {
    **TOY_NETS, "loss": "nonsaturating", "optimizer": "adam", "lr_g": 5e-4, "lr_d": 5e-4,
    "beta1": 0.5, "beta2": 0.999, "n_critic": 1, "steps": 20_000, "lr_policy": "linear",
    "lr_decay_start": 0.5}

PRESETS.register("gan-toy", TOY_GAN,
                 "vanilla GAN for the 2-D mixtures (ring8, grid25): 3x128 MLPs, 2-D noise, "
                 "batch 100, Adam 5e-4 decayed, 20k steps")
PRESETS.register("pacgan-toy", {**TOY_GAN, "pack": 4, "batch_size": 400},
                 "PacGAN4 (Lin et al. 2018) on gan-toy: D judges packs of 4 samples, 100 packs "
                 "a batch")
PRESETS.register("unrolled-toy", {**TOY_GAN, "unroll": 5, "steps": 8_000},
                 "unrolled GAN (Metz et al. 2017) on gan-toy: G's loss through 5 look-ahead "
                 "steps of D, 8k steps")
