"""Pictures of training: sample grids for images, D's landscape for 2-D toys, the textbook
density figure for 1-D data, a loss curve for every run, and animations of the evolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from ganforge.config import TrainConfig
from ganforge.data import InMemoryDataset
from ganforge.data.batch import Batch
from ganforge.data.dataset import TrainData
from ganforge.data.toy import TOY_MIXTURES, toy_modes
from ganforge.train.checkpoint import guard_write
from ganforge.train.run import RunDir
from ganforge.variants.base import Nets, Variant, in_mode, main_net
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
    """Draws the run's pictures from fixed inputs (the same every time): the variant's preview
    figure for images (from noise or a held-out batch), points and D's landscape for toys."""

    def __init__(self, cfg: TrainConfig, variant: Variant, data: TrainData, run: RunDir,
                 held_out: Batch | None = None) -> None:
        self.variant, self.run, self.kind = variant, run, data.kind
        gen = torch.Generator().manual_seed(cfg.seed + 1)
        if data.kind == "image":
            self.fixed = variant.preview_inputs(cfg.grid_size, gen, held_out)
        else:
            self.fixed = variant.grid_inputs(TOY_POINTS, gen)
        self.real = (data.data[:TOY_POINTS].numpy()
                     if data.kind == "points" and isinstance(data, InMemoryDataset) else None)
        self.lim = _fixed_limits(self.real) if self.real is not None else None
        self.modes = _modes_2d(cfg.data)
        self.frames: list[Path] = []
        self.last_frame_step = -1
        # D's landscape is evaluated a training batch at a time: a D with minibatch layers
        # (minibatch discrimination compares every pair of a batch) sees the batch size it was
        # trained on, and memory stays bounded (10,000 grid points at once would need ~20 GB)
        self.critic_chunk = max(1, cfg.batch_size // max(1, cfg.pack))
        self.title = f"{cfg.model} on {cfg.data}"

    def real_reference(self, batch: Tensor) -> Tensor:
        """Real data for the monitor's collapse check: the figures' fixed real points for point
        data (enough of them to find every mode), else the training batch."""
        if self.real is None:
            return batch
        return torch.as_tensor(self.real, dtype=batch.dtype, device=batch.device)

    @torch.no_grad()
    def fixed_samples(self, nets: Nets) -> Tensor:
        """The generated images of the preview figure (images), or G's points in eval mode."""
        if self.kind == "image":
            return self.variant.preview(self.fixed, nets).images
        net: nn.Module = main_net(nets)
        return in_mode(net, False, lambda: self.variant.generate(self.fixed, net))

    def _critic(self, x: np.ndarray) -> np.ndarray:
        """D's output on points, in eval mode, one training batch of points at a time."""
        try:
            self.variant.eval()
            t = torch.as_tensor(x, dtype=torch.float32, device=self.variant.device)
            return np.concatenate([self.variant.critic(c).float().cpu().numpy().reshape(-1)
                                   for c in t.split(self.critic_chunk)])
        finally:
            self.variant.train()

    def save(self, tag: str, step: int, nets: Nets) -> Path | None:
        """Save the picture for this moment of training under samples/<tag>.png."""
        if self.kind != "image" and step == self.last_frame_step:
            return None  # the same moment was just drawn (a step frame at an epoch's end)
        self.last_frame_step = step
        path = self.run.samples / f"{tag}.png"
        with guard_write(path):
            return self._draw(path, step, nets)

    def _draw(self, path: Path, step: int, nets: Nets) -> Path:
        """Draw and write one picture (the variant's figure, or points over D's landscape)."""
        if self.kind == "image":
            with torch.no_grad():
                figure = self.variant.preview(self.fixed, nets)
            save_grid(figure.images, path, nrow=figure.nrow)
            return path
        fake = self.fixed_samples(nets)
        pts, title = fake.float().cpu().numpy(), f"{self.title}: step {step}"
        assert self.real is not None and self.lim is not None
        if pts.shape[1] == 1:
            plot_density_1d(self.real.reshape(-1), pts.reshape(-1), self._critic_1d, path, title,
                            xlim=self.lim[0])
        else:
            box = (self.lim[0], self.lim[1])
            plot_toy_2d(self.real[:, :2], pts[:, :2], self._critic_2d(pts.shape[1]), path, title,
                        lim=box, modes=self.modes)
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


def _modes_2d(data: str) -> tuple[np.ndarray, float] | None:
    """The mode centres and std of a 2-D toy mixture (ring8, grid25), for the pictures."""
    if data not in TOY_MIXTURES:
        return None
    centres, std = toy_modes(data)
    return (centres, std) if centres.shape[1] == 2 else None


def _fixed_limits(real: np.ndarray) -> tuple[tuple[float, float], ...]:
    """Axis limits fixed for the whole run (so animation frames line up): the data's range
    widened by half its extent on each side, per dimension (at most two)."""
    lo, hi = real.min(0), real.max(0)
    pad = 0.5 * np.maximum(hi - lo, 1e-3)
    return tuple((float(a - p), float(b + p)) for a, b, p in zip(lo[:2], hi[:2], pad[:2]))
