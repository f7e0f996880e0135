"""What D is shown and what it is asked: the one place where one-sided label smoothing, instance
noise and DiffAugment act, so every variant (unconditional, cgan, acgan, infogan) gets them alike.

One-sided label smoothing (Salimans et al. 2016, §3.4): D's target for real data is alpha = 0.9
instead of 1, while fakes keep target 0 (smoothing the fake side too would reinforce G's current
mistakes: the optimal D becomes (alpha p_data + beta p_model) / (p_data + p_model)).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from ganforge.config import TrainConfig
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError
from ganforge.tricks.diffaugment import diff_augment, parse_policy
from ganforge.tricks.instance_noise import add_instance_noise, annealed_std


@dataclass(frozen=True)
class DInputs:
    """D's real-data target and the transform of every image D sees (real or fake)."""

    real_target: float = 1.0  # one-sided label smoothing: 0.9
    noise_std: float = 0.0  # instance noise at step 0
    noise_steps: int = 1  # ... annealed linearly to 0 at this step
    augment: tuple[str, ...] = ()  # DiffAugment policies, in order

    @staticmethod
    def from_config(cfg: TrainConfig, spec: DataSpec) -> DInputs:
        """Read --label-smoothing, --instance-noise(-steps) and --diffaugment."""
        augment = parse_policy(cfg.diffaugment)
        if augment and spec.kind != "image":
            raise ConfigError(f"--diffaugment needs image data, but '{cfg.data}' is points; "
                              "drop --diffaugment")
        return DInputs(cfg.label_smoothing, cfg.instance_noise, cfg.instance_noise_steps, augment)

    def noise_at(self, step: int) -> float:
        """Instance-noise standard deviation at training step `step`."""
        return annealed_std(self.noise_std, step, self.noise_steps)

    def __call__(self, x: Tensor, step: int) -> Tensor:
        """DiffAugment T(x), then instance noise: differentiable in x, so G's gradients pass."""
        if self.augment:
            x = diff_augment(x, self.augment)
        return add_instance_noise(x, self.noise_at(step))
