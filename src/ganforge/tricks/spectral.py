"""Spectral normalisation (Miyato et al. 2018): every weight of D is divided by its largest
singular value sigma(W), estimated by one power iteration per forward pass (their Algorithm 1),
so each layer, and D as a whole, is 1-Lipschitz. Conv kernels are reshaped to (out, in*k*k)."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

LAYERS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Put spectral normalisation on every conv and linear layer of `module` (in place)."""
    for m in list(module.modules()):
        if isinstance(m, LAYERS):
            dim = 1 if isinstance(m, nn.ConvTranspose2d) else 0
            spectral_norm(m, dim=dim)
    return module


def largest_singular_value(weight: Tensor, dim: int = 0) -> float:
    """sigma_max of a weight viewed as a matrix (rows = output units), computed exactly."""
    w = weight.detach().transpose(0, dim) if dim else weight.detach()
    return float(torch.linalg.matrix_norm(w.reshape(w.shape[0], -1), ord=2))
