"""Normalisation layers of the image-to-image translation networks (pix2pix, CycleGAN).

As in the official pytorch-CycleGAN-and-pix2pix code: BatchNorm with learned scale and running
statistics, or InstanceNorm (Ulyanov et al. 2016) without either. A convolution followed by
BatchNorm has no bias (the norm's shift replaces it); with InstanceNorm, which has no shift, it
keeps one.
"""

from __future__ import annotations

from torch import nn

from ganforge.errors import choices_error

NORMS = ("batch", "instance")


def check_norm(kind: str) -> str:
    """`kind` if it is a translation-net norm, else the standard choices error."""
    if kind not in NORMS:
        raise choices_error("norm", kind, NORMS)
    return kind


def norm2d(kind: str, channels: int) -> nn.Module:
    """BatchNorm2d (affine, running stats) or InstanceNorm2d (no affine, no running stats)."""
    if check_norm(kind) == "batch":
        return nn.BatchNorm2d(channels)
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


def conv_bias(kind: str) -> bool:
    """Whether a convolution followed by norm `kind` keeps its bias (only before InstanceNorm)."""
    return check_norm(kind) == "instance"
