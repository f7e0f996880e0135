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
- initialisation: PyTorch's own (`--init default`), not DCGAN's N(0, 0.02): with the small
  weights D starts too smooth to resolve clusters of std 0.05 and, with Adam moving each weight
  by about lr a step, stays so for thousands of steps (first 3,000 steps on grid25: 0/25 modes
  at 2 % high-quality samples with N(0, 0.02), 3/25 at 14 % with the default init);
- optimiser: Adam, beta1 0.5, lr 1e-3 for 30,000 steps, constant for the first half and then
  decayed linearly to 0 (the pix2pix schedule), which sharpens the samples onto the modes at the
  end. The PacGAN code trains 400 epochs of 1,000 steps at lr 1e-4, beta1 0.8: far beyond a CPU
  budget of minutes;
- pacgan-toy packs 2 (PacGAN2): in a tuning sweep (15,000-40,000 steps, seed 0) it beat packing
  4, whose 4x-wider input slowed D's sharpening (grid25 at 40,000 steps: 12/25 at 91 % with 2,
  11/25 at 76 % with 4); the benchmark keeps a --pack 4 row;
- a larger batch is the one change that helped pacgan-toy on grid25 in the sweep of
  benchmarks/toy_grid25_sweep.py (seed 0, 30,000 steps): 400 packs a batch (`--batch-size
  800`) 17/25 modes at 84 % against 13/25 at 81 %, at 2.5x the time (9.3 min on one thread of
  the AMD EPYC); a wider net (256), a faster D (lr 2e-3) and an EMA of G did not. The preset
  keeps 100 packs (under 4 minutes); the benchmark has a --batch-size 800 row;
- unrolled-toy: 5 look-ahead steps (Metz et al. show 0, 1, 5 and 10) at Adam lr 1e-4 for G and
  D, as the authors' toy code (poolio/unrolled_gan: lr 1e-4, beta1 0.5, 5 unrolling steps), for
  8,000 steps: each step costs about six plain ones, and the run must fit in 10 minutes on the
  2-core CPU. At gan-toy's 1e-3 the look-ahead steps overshoot (ring8, 8,000 steps: 0/8 modes,
  no sample within 3 sigma); at 1e-4, 3,000 steps reach 4/8 at 35 %.

benchmarks/results/toy_modes.md has what these reach (the README's mode-collapse table).
"""

from __future__ import annotations

from typing import Any

from ganforge.presets import PRESETS

#: The toy networks and noise, shared by every toy preset and the benchmark's remedy rows.
TOY_NETS: dict[str, Any] = {"arch": "mlp", "hidden": 128, "mlp_depth": 3, "g_norm": "none",
                            "d_norm": "none", "latent_dim": 2, "batch_size": 100}
TOY_GAN: dict[str, Any] = {
    **TOY_NETS, "loss": "nonsaturating", "optimizer": "adam", "lr_g": 1e-3, "lr_d": 1e-3,
    "beta1": 0.5, "beta2": 0.999, "n_critic": 1, "steps": 30_000, "lr_policy": "linear",
    "lr_decay_start": 0.5, "init": "default"}

PRESETS.register("gan-toy", TOY_GAN,
                 "vanilla GAN for the 2-D mixtures (ring8, grid25): 3x128 MLPs, 2-D noise, "
                 "batch 100, default init, Adam 1e-3 decayed, 30k steps")
PRESETS.register("pacgan-toy", {**TOY_GAN, "pack": 2, "batch_size": 200},
                 "PacGAN2 (Lin et al. 2018) on gan-toy: D judges packs of 2 samples, 100 packs "
                 "a batch")
PRESETS.register("unrolled-toy", {**TOY_GAN, "unroll": 5, "steps": 8_000, "lr_g": 1e-4,
                                   "lr_d": 1e-4},
                 "unrolled GAN (Metz et al. 2017) on gan-toy: G's loss through 5 look-ahead "
                 "steps of D, Adam 1e-4, 8k steps")
