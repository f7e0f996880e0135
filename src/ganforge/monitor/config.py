"""Thresholds of the training-failure monitor."""

from __future__ import annotations

from dataclasses import dataclass

from ganforge.errors import ConfigError


@dataclass
class MonitorConfig:
    """Thresholds of `FailureMonitor`; the defaults suit BCE / non-saturating GAN losses.

    Timing (all in training steps):
      window: history the D-wins rule averages over; it is checked only once the window is full.
      patience: consecutive steps the D-wins rule must hold before it is reported.
      warmup: no D-wins or collapse check before this step (NaN/Inf are reported from step 0).
      cooldown: an event kind is not reported again until this many steps after its last report.

    Discriminator wins, when ALL hold over the window (D(real)/D(fake) only when reported):
      d_loss_floor: mean D loss below this (healthy D loss sits around 0.3-1.4).
      d_real_min: mean D(real) above this.
      d_fake_max: mean D(fake) below this.
      g_growth / g_loss_high: G loss is growing or high: the mean of the window's second half
        exceeds the first half's by more than `g_growth`, or exceeds `g_loss_high`.

    Mode collapse (`check_diversity`):
      collapse_ratio: fake diversity / real diversity below this is a collapse; diversity is the
        mean pairwise L2 distance between the samples of a batch.
      diversity_max_samples: at most this many samples per batch enter the pairwise distances.
      mode_share: for point data (samples of shape (N, d), the toy mixtures) also a collapse
        when a cluster of the real points (a mode) gets under this share of its expected
        generated points: a G on some of the modes keeps its samples spread (so the distance
        ratio misses it) but drops the rest. 0 turns this rule off.
      mode_patience: the dropped-modes rule reports only after this many checks in a row that
        each drop a mode, the last dropping no fewer than the first: a G still spreading over
        the modes early in training picks them up from check to check and is not flagged.
        Once reported, it speaks again only when the number of dropped modes changes (or after
        a check that dropped none), not every `cooldown` steps of a lasting collapse.
    """

    window: int = 200
    patience: int = 50
    warmup: int = 500
    cooldown: int = 1000
    d_loss_floor: float = 0.05
    d_real_min: float = 0.95
    d_fake_max: float = 0.05
    g_growth: float = 1.0
    g_loss_high: float = 5.0
    collapse_ratio: float = 0.1
    diversity_max_samples: int = 256
    mode_share: float = 0.2
    mode_patience: int = 5

    def __post_init__(self) -> None:
        """Reject thresholds that would make the monitor silently useless."""
        _check(self.window >= 2, "window must be at least 2 steps")
        _check(self.patience >= 1, "patience must be at least 1 step")
        _check(self.warmup >= 0 and self.cooldown >= 0, "warmup and cooldown must be >= 0")
        _check(self.d_loss_floor > 0, "d_loss_floor must be > 0")
        _check(0 < self.d_real_min < 1, "d_real_min must be between 0 and 1")
        _check(0 < self.d_fake_max < 1, "d_fake_max must be between 0 and 1")
        _check(self.g_growth >= 0, "g_growth must be >= 0")
        _check(0 < self.collapse_ratio < 1, "collapse_ratio must be between 0 and 1")
        _check(self.diversity_max_samples >= 2, "diversity_max_samples must be at least 2")
        _check(0 <= self.mode_share < 1, "mode_share must be in [0, 1) (0 = off)")
        _check(self.mode_patience >= 1, "mode_patience must be at least 1 check")


def _check(ok: bool, message: str) -> None:
    """Raise a ConfigError naming the bad monitor threshold."""
    if not ok:
        raise ConfigError(f"monitor config: {message}")
