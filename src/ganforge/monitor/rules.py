"""Pure detection rules of the monitor: non-finite stats, D winning, sample diversity, and the
coverage of low-dimensional point data."""

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


def point_recall(fake: Tensor, real: Tensor, k: int, max_samples: int) -> float:
    """Share of the real points that lie inside the generated points' manifold: within the
    distance from some fake point to its k-th nearest fake neighbour (Kynkaanniemi et al. 2019's
    recall, with the roles that make it a coverage test). A G that puts every sample on a few
    modes has tight balls there and none elsewhere, so the real points of the missed modes fall
    outside however many samples it draws."""
    n = min(int(fake.shape[0]), max_samples * 8)  # points are cheap; more of them, finer balls
    if n <= k:
        raise ValueError(f"point recall needs more than k={k} generated points, got {n}")
    with torch.no_grad():
        f = fake[:n].detach().reshape(n, -1).to(torch.float64)
        r = real[:max_samples].detach().reshape(min(int(real.shape[0]), max_samples), -1)
        radii = torch.cdist(f, f).kthvalue(k + 1, dim=1).values  # +1: the point itself
        inside = torch.cdist(r.to(torch.float64), f) <= radii[None, :]
    return float(inside.any(dim=1).to(torch.float64).mean())


def coverage_message(recall: float, threshold: float, k: int) -> str:
    """Diagnosis for point samples that miss whole regions of the data."""
    return (
        f"mode collapse: only {100 * recall:.0f} % of a real batch lies near the generated "
        f"points (within their {k}-nearest-neighbour radius; below {100 * threshold:.0f} % is "
        "a collapse). The generator covers a few modes and drops the rest."
    )
