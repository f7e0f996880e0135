"""Pictures of training: sample grids for images, D's landscape for 2-D toys, the textbook
density figure for 1-D data, a loss curve for every run, and animations of the evolution."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from ganforge.config import TrainConfig
from ganforge.data import InMemoryDataset
from ganforge.train.checkpoint import guard_write
from ganforge.train.run import RunDir
from ganforge.variants.base import Variant
from ganforge.viz import (
    make_evolution_strip,
    make_gif,
    plot_density_1d,
    plot_losses,
    plot_toy_2d,
    save_grid,
)

TOY_POINTS = 2000


class Pictures:
    """Draws the run's pictures from fixed generator inputs (the same every time)."""

    def __init__(self, cfg: TrainConfig, variant: Variant, data: InMemoryDataset, run: RunDir
                 ) -> None:
        self.variant, self.run, self.kind = variant, run, data.kind
        gen = torch.Generator().manual_seed(cfg.seed + 1)
        n = cfg.grid_size if data.kind == "image" else TOY_POINTS
        self.fixed = variant.grid_inputs(n, gen)
        self.real = data.data[:TOY_POINTS].numpy() if data.kind == "points" else None
        self.lim = _fixed_limits(self.real) if self.real is not None else None
        self.frames: list[Path] = []
        self.last_frame_step = -1
        self.title = f"{cfg.model} on {cfg.data}"

    @torch.no_grad()
    def fixed_samples(self, ema: object | None = None) -> Tensor:
        """G's output for the fixed inputs, in eval mode (BatchNorm on running statistics)."""
        net: nn.Module = ema.module if ema is not None else self.variant.generator  # type: ignore[attr-defined]
        was = net.training
        net.eval()
        out = self.variant.generate(self.fixed, net)
        net.train(was)
        return out

    def _critic(self, x: np.ndarray) -> np.ndarray:
        """D's output on points, in eval mode."""
        try:
            self.variant.eval()
            t = torch.as_tensor(x, dtype=torch.float32, device=self.variant.device)
            return self.variant.critic(t).float().cpu().numpy().reshape(-1)
        finally:
            self.variant.train()

    def save(self, tag: str, step: int, ema: object | None = None) -> Path | None:
        """Save the picture for this moment of training under samples/<tag>.png."""
        if self.kind != "image" and step == self.last_frame_step:
            return None  # the same moment was just drawn (a step frame at an epoch's end)
        self.last_frame_step = step
        path = self.run.samples / f"{tag}.png"
        with guard_write(path):
            return self._draw(path, step, ema)

    def _draw(self, path: Path, step: int, ema: object | None) -> Path:
        """Draw and write one picture (a grid of images, or points over D's landscape)."""
        fake = self.fixed_samples(ema)
        if self.kind == "image":
            save_grid(fake, path, nrow=max(1, int(math.sqrt(fake.shape[0]))))
            return path
        pts, title = fake.float().cpu().numpy(), f"{self.title}: step {step}"
        assert self.real is not None and self.lim is not None
        if pts.shape[1] == 1:
            plot_density_1d(self.real.reshape(-1), pts.reshape(-1), self._critic_1d, path, title,
                            xlim=self.lim[0])
        else:
            box = (self.lim[0], self.lim[1])
            plot_toy_2d(self.real[:, :2], pts[:, :2], self._critic_2d(pts.shape[1]), path, title,
                        lim=box)
        self.frames.append(path)
        return path

    def _critic_1d(self, xs: np.ndarray) -> np.ndarray:
        return self._critic(xs.reshape(-1, 1))

    def _critic_2d(self, dim: int):  # noqa: ANN202 - returns a plotting callback or None
        return (lambda xy: self._critic(xy)) if dim == 2 else None

    def finish(self) -> None:
        """Loss curve, and for toys an animation plus a start-to-end strip of the frames."""
        records = [r for r in self.run.read_log() if "d_loss" in r]
        if records:
            with guard_write(self.run.loss_curve):
                plot_losses(records, self.run.loss_curve)
        if len(self.frames) >= 2:
            with guard_write(self.run.root / "evolution.gif"):
                make_gif(self.frames, self.run.root / "evolution.gif")
                make_evolution_strip(self.frames, self.run.root / "evolution.png")


def _fixed_limits(real: np.ndarray) -> tuple[tuple[float, float], ...]:
    """Axis limits fixed for the whole run (so animation frames line up): the data's range
    widened by half its extent on each side, per dimension (at most two)."""
    lo, hi = real.min(0), real.max(0)
    pad = 0.5 * np.maximum(hi - lo, 1e-3)
    return tuple((float(a - p), float(b + p)) for a, b, p in zip(lo[:2], hi[:2], pad[:2]))
