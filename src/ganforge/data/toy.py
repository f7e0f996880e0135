"""Toy 1-D and 2-D point sets from the GAN literature (mode-collapse test beds)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from ganforge.errors import DataError

DEFAULT_N = 20000


def _ring8_modes() -> np.ndarray:
    """Centres of 8 Gaussians evenly spaced on a circle of radius 2."""
    angles = 2 * np.pi * np.arange(8) / 8
    return np.stack([2 * np.cos(angles), 2 * np.sin(angles)], axis=1)


def _grid25_modes() -> np.ndarray:
    """Centres of a 5x5 grid at {-4, -2, 0, 2, 4}^2."""
    xs, ys = np.meshgrid(np.arange(-4, 5, 2), np.arange(-4, 5, 2), indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64)


_MODES: dict[str, tuple[Callable[[], np.ndarray], float]] = {
    "ring8": (_ring8_modes, 0.02),
    "grid25": (_grid25_modes, 0.05),
    "gauss1d": (lambda: np.array([[4.0]]), 0.5),
}


#: The toy sets with discrete modes (scored by modes covered and high-quality samples).
TOY_MIXTURES = tuple(_MODES)


def toy_modes(name: str) -> tuple[np.ndarray, float]:
    """Mode centres (K, D) and per-mode standard deviation of a toy set with discrete modes."""
    if name not in _MODES:
        raise DataError(f"toy set '{name}' has no discrete modes; choose from: {', '.join(_MODES)}")
    centres, std = _MODES[name]
    return centres(), std


def _mixture(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Sample `n` points from the equal-weight Gaussian mixture of `name`."""
    centres, std = toy_modes(name)
    which = rng.integers(0, len(centres), size=n)
    return centres[which] + std * rng.standard_normal((n, centres.shape[1]))


def _ring8(n: int, rng: np.random.Generator) -> np.ndarray:
    """8 Gaussians (std 0.02) on a circle of radius 2, as in Metz et al. 2017 (unrolled GAN)."""
    return _mixture("ring8", n, rng)


def _grid25(n: int, rng: np.random.Generator) -> np.ndarray:
    """25 Gaussians (std 0.05) on the grid {-4, -2, 0, 2, 4}^2, as in PacGAN (Lin et al. 2018)."""
    return _mixture("grid25", n, rng)


def _gauss1d(n: int, rng: np.random.Generator) -> np.ndarray:
    """1-D Gaussian N(4, 0.5^2): the textbook figure's setting (a GAN learning a 1-D Gaussian)."""
    return _mixture("gauss1d", n, rng)


def _swissroll(n: int, rng: np.random.Generator) -> np.ndarray:
    """2-D swiss roll (noise 0.25, divided by 7.5: roughly [-2, 2]), as in the WGAN-GP toy code."""
    t = 1.5 * np.pi * (1 + 2 * rng.random(n))
    points = np.stack([t * np.cos(t), t * np.sin(t)], axis=1)
    points += 0.25 * rng.standard_normal((n, 2))
    return points / 7.5


def _as_tensor(points: np.ndarray) -> Tensor:
    """Points as a contiguous float32 tensor."""
    return torch.from_numpy(np.ascontiguousarray(points, dtype=np.float32))


TOY_SETS: dict[str, tuple[Callable[[int, np.random.Generator], np.ndarray], str]] = {
    "ring8": (_ring8, "8 Gaussians on a circle of radius 2, std 0.02 (2-D points)"),
    "grid25": (_grid25, "5x5 grid of Gaussians at {-4,-2,0,2,4}^2, std 0.05 (2-D points)"),
    "gauss1d": (_gauss1d, "1-D Gaussian, mean 4, std 0.5 (the textbook figure's setting)"),
    "swissroll": (_swissroll, "2-D swiss roll scaled to about [-2, 2] (2-D points)"),
}


def make_toy(name: str, n: int = DEFAULT_N, seed: int = 0, *, stream: int = 0) -> Tensor:
    """Sample `n` float32 points (n, D) of toy set `name`; `stream` gives independent draws."""
    if name not in TOY_SETS:
        raise DataError(f"unknown toy set '{name}'; choose from: {', '.join(TOY_SETS)}")
    if n <= 0:
        raise DataError(f"number of toy points must be positive, got {n}")
    entropy = int(seed) & (2**64 - 1)  # numpy seeds must be non-negative
    rng = np.random.default_rng(entropy if stream == 0 else [entropy, int(stream)])
    return _as_tensor(TOY_SETS[name][0](n, rng))
