"""TensorFlow-1 bilinear resizing, as used by the reference FID/IS Inception graph.

The 2015-12-05 Inception graph behind the published FID numbers resizes its input with
TF-1 ``tf.image.resize_bilinear(..., align_corners=False)``.  That op maps output pixel ``i`` to
the source coordinate ``i * (in_size / out_size)`` -- there are **no half-pixel centres**.

``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)`` instead uses
``(i + 0.5) * (in_size / out_size) - 0.5`` (half-pixel centres, like TF-2 and PIL), so it shifts
the image by up to half a source pixel and gives different pixels, hence different features and
a different FID.  The two agree only where the formulas coincide, e.g. for the identity size.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ganforge.errors import DataError


def _axis_weights(
    in_size: int, out_size: int, device: torch.device
) -> tuple[Tensor, Tensor, Tensor]:
    """Lower index, upper index and lerp weight of every output position along one axis.

    Computed in float32 exactly like the TF-1 kernel (``LegacyScaler``): ``scale`` is the float
    ``in / out`` and the source coordinate is ``float(i) * scale``.
    """
    scale = torch.tensor(in_size / out_size, dtype=torch.float32)
    src = torch.arange(out_size, dtype=torch.float32) * scale
    lower = torch.floor(src)
    lerp = src - lower
    lo = lower.to(torch.int64).clamp_(0, in_size - 1)
    hi = (lo + 1).clamp_(max=in_size - 1)
    return lo.to(device), hi.to(device), lerp.to(device)


def tf1_bilinear_resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Resize an NCHW batch to ``size`` = (height, width) with TF-1 ``resize_bilinear``.

    Semantics (``align_corners=False``, no half-pixel centres): along each axis the output index
    ``i`` reads the source coordinate ``s = i * in/out``, ``y0 = floor(s)``,
    ``y1 = min(y0 + 1, in - 1)`` and blends ``v[y0] + (v[y1] - v[y0]) * (s - y0)``; the width is
    interpolated first, then the height, as in the TF kernel.  Any dtype is accepted and the
    result is float32 (TF casts integer images to float as well).
    """
    if x.ndim != 4:
        raise DataError(f"expected an NCHW image batch, got a tensor of shape {tuple(x.shape)}")
    out_h, out_w = int(size[0]), int(size[1])
    if out_h <= 0 or out_w <= 0:
        raise DataError(f"resize target must be positive, got {size}")
    in_h, in_w = x.shape[-2], x.shape[-1]
    if in_h == 0 or in_w == 0:
        raise DataError(f"cannot resize an empty image of size {in_h}x{in_w}")
    x = x.to(torch.float32)
    if (in_h, in_w) == (out_h, out_w):
        return x.clone()

    x_lo, x_hi, x_lerp = _axis_weights(in_w, out_w, x.device)
    left = x.index_select(3, x_lo)
    right = x.index_select(3, x_hi)
    rows = left + (right - left) * x_lerp  # (N, C, in_h, out_w)

    y_lo, y_hi, y_lerp = _axis_weights(in_h, out_h, x.device)
    top = rows.index_select(2, y_lo)
    bottom = rows.index_select(2, y_hi)
    return top + (bottom - top) * y_lerp[:, None]
