"""Historical averaging (Salimans et al. 2016, §3.3): each player's cost gains
||theta - (1/t) sum_{i=1..t} theta[i]||^2, theta[i] the parameters at past step i, which damps the
oscillations of gradient descent in a game."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class HistoricalAverage(nn.Module):
    """Running mean of a parameter list (in buffers, so checkpoints keep it) and the penalty."""

    def __init__(self, params: list[nn.Parameter]) -> None:
        super().__init__()
        self._params = list(params)  # references, not registered: they belong to the networks
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))
        for i, p in enumerate(self._params):
            self.register_buffer(f"avg_{i}", p.detach().clone())

    def averages(self) -> list[Tensor]:
        """The running means, one per parameter."""
        return [getattr(self, f"avg_{i}") for i in range(len(self._params))]

    @torch.no_grad()
    def update(self) -> None:
        """Fold the current parameters in: avg_t = avg_{t-1} + (theta_t - avg_{t-1}) / t."""
        count: Tensor = self.count  # type: ignore[assignment]
        count += 1
        weight = float(1.0 / count)
        for avg, p in zip(self.averages(), self._params):
            avg.lerp_(p.detach(), weight)

    def penalty(self) -> Tensor:
        """sum over parameters of ||theta - mean||^2, the mean held constant."""
        terms = [((p - avg) ** 2).sum() for p, avg in zip(self._params, self.averages())]
        return torch.stack(terms).sum()

    def forward(self) -> Tensor:
        """Update with the current parameters, then the penalty (the trainer calls once a phase)."""
        self.update()
        return self.penalty()
