"""Pure detection rules of the monitor: non-finite stats, D winning, sample diversity, and the
modes of low-dimensional point data that get almost no samples."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from ganforge.monitor.config import MonitorConfig


def as_floats(stats: Mapping[str, Any]) -> dict[str, float]:
    """Convert stat values (float, int, 0-d tensor, numpy scalar) to float; skip non-numbers."""
    out: dict[str, float] = {}
    for key, value in stats.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, Tensor) and value.numel() != 1:
            continue
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def nonfinite(values: Mapping[str, float]) -> dict[str, float]:
    """The NaN or +/-Inf entries of `values`."""
    return {k: v for k, v in values.items() if not math.isfinite(v)}


def nan_message(bad: Mapping[str, float]) -> str:
    """Diagnosis for non-finite training stats."""
    shown = ", ".join(f"{k}={v}" for k, v in bad.items())
    return (
        f"training diverged: {shown} is not a finite number. The weights are most likely "
        "corrupted, so stop and resume from the last good checkpoint."
    )


def _mean(values: Sequence[float]) -> float:
    """Arithmetic mean of a non-empty sequence."""
    return sum(values) / len(values)


def _present(window: Sequence[float | None]) -> list[float]:
    """The values actually reported within a window (steps without the stat hold None)."""
    return [v for v in window if v is not None]


def d_wins_diagnosis(
    windows: Mapping[str, Sequence[float | None]], config: MonitorConfig
) -> str | None:
    """The D-wins diagnosis if every criterion holds over the full window, else None."""
    if len(windows["d_loss"]) < config.window:
        return None
    d_loss, g = _present(windows["d_loss"]), _present(windows["g_loss"])
    if not d_loss or len(g) < 2:
        return None
    d_mean = _mean(d_loss)
    if d_mean >= config.d_loss_floor:
        return None
    g_first, g_second = _mean(g[: len(g) // 2]), _mean(g[len(g) // 2 :])
    if g_second - g_first <= config.g_growth and g_second <= config.g_loss_high:
        return None
    probs = ""
    d_real, d_fake = _present(windows["d_real"]), _present(windows["d_fake"])
    if d_real:
        if _mean(d_real) <= config.d_real_min:
            return None
        probs += f", D(real)={_mean(d_real):.3f}"
    if d_fake:
        if _mean(d_fake) >= config.d_fake_max:
            return None
        probs += f", D(fake)={_mean(d_fake):.3f}"
    return (
        f"the discriminator is winning: over the last {config.window} steps D loss averaged "
        f"{d_mean:.4f}{probs}, while G loss went from {g_first:.2f} to {g_second:.2f}. "
        "The generator gets almost no useful gradient and rarely recovers on its own."
    )


def diversity(samples: Tensor, max_samples: int) -> float:
    """Mean pairwise L2 distance between the (flattened) samples, the diagonal excluded."""
    n = min(int(samples.shape[0]), max_samples)
    if n < 2:
        raise ValueError(f"diversity needs at least 2 samples, got {int(samples.shape[0])}")
    with torch.no_grad():
        flat = samples[:n].detach().reshape(n, -1).to(torch.float64)
        dist = torch.cdist(flat, flat)
        # The diagonal is zero up to rounding; subtracting it keeps only distinct pairs.
        total = dist.sum() - dist.diagonal().sum()
    return float(total) / (n * (n - 1))


def collapse_message(fake_div: float, real_div: float, ratio: float, threshold: float) -> str:
    """Diagnosis for a mode collapse."""
    return (
        f"mode collapse: the generated samples are nearly all alike (mean pairwise distance "
        f"{fake_div:.4g} vs {real_div:.4g} for real data, ratio {ratio:.2g} < {threshold}). "
        "The generator maps most noise vectors to the same output."
    )


def real_clusters(real: Tensor, eps_factor: float = 10.0) -> Tensor:
    """The cluster of each real point (N,): points connect within `eps_factor` times their median
    nearest-neighbour distance, so the clusters of a mixture's sample are its modes."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    with torch.no_grad():
        r = real.detach().reshape(real.shape[0], -1).to(torch.float64).cpu()
        dist = torch.cdist(r, r)
        eps = eps_factor * float(dist.kthvalue(2, dim=1).values.median())
        _, labels = connected_components(csr_matrix((dist <= eps).numpy()), directed=False)
    return torch.as_tensor(labels, dtype=torch.long)


def dropped_modes(fake: Tensor, real: Tensor, share: float, labels: Tensor | None = None,
                  min_mass: float = 0.01) -> tuple[int, int, float]:
    """(modes dropped, modes, real mass of the dropped ones) of point samples: the real points
    are grouped into clusters (`labels`, from `real_clusters` when not given), each generated
    point counts for the cluster of its nearest real point, and a cluster holding at least
    `min_mass` of the real points is dropped when it gets under `share` of its real share of the
    generated points (PacGAN's rule counts a mode covered at a fifth of its expected samples).
    Off-mode samples still count for their nearest mode, so an imprecise G that spreads over
    every mode is not called collapsed."""
    lab = real_clusters(real) if labels is None else labels
    n = int(lab.max()) + 1
    with torch.no_grad():
        r = real.detach().reshape(real.shape[0], -1).to(torch.float64).cpu()
        f = fake.detach().reshape(fake.shape[0], -1).to(torch.float64).cpu()
        real_share = torch.bincount(lab, minlength=n).to(torch.float64) / r.shape[0]
        nearest = torch.cdist(f, r).argmin(dim=1)
        fake_share = torch.bincount(lab[nearest], minlength=n).to(torch.float64) / f.shape[0]
        modes = real_share >= min_mass
        dropped = modes & (fake_share < share * real_share)
    return int(dropped.sum()), int(modes.sum()), float(real_share[dropped].sum())


def dropped_message(dropped: int, modes: int, mass: float, share: float) -> str:
    """Diagnosis for point samples that leave modes of the data (almost) empty."""
    return (
        f"mode collapse: {dropped} of the data's {modes} clusters ({100 * mass:.0f} % of the real "
        f"points) get almost no generated points (under {share:g} of their share). The "
        "generator covers some modes and drops the others."
    )
