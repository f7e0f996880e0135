"""Per-image reconstruction metrics for paired image translation (pix2pix, cycle reconstructions):
PSNR, SSIM (Wang et al. 2004) and the L1 error; and one no-reference figure, the variance of the
Laplacian (sharpness: blurry outputs have less of it than their targets).

Unlike the distribution metrics of this package, these compare two image batches image by image:
each takes (B, C, H, W) tensors x and y of the same shape (any real dtype, computed in float64 on
their device) and returns a (B,) float64 tensor. `data_range` is the span of the pixel values
(1 for [0, 1], 2 for [-1, 1], 255 for uint8).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ganforge.errors import GanforgeError

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
LUMA_601 = (0.299, 0.587, 0.114)  # ITU-R BT.601 weights of R, G, B (Pillow's "L" conversion)
LAPLACIAN_3X3 = ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0))


def _pair(x: Tensor, y: Tensor, data_range: float | None = None) -> tuple[Tensor, Tensor]:
    """Two same-shape (B, C, H, W) batches as float64, after checking them and the range."""
    if x.dim() != 4 or x.shape != y.shape:
        raise GanforgeError(f"image metrics need two (B, C, H, W) batches of one shape, got "
                            f"{tuple(x.shape)} and {tuple(y.shape)}")
    if data_range is not None and not data_range > 0:
        raise GanforgeError(f"data_range must be > 0 (e.g. 1 for [0, 1], 2 for [-1, 1], 255 for "
                            f"uint8), got {data_range}")
    return x.to(torch.float64), y.to(torch.float64)


def l1_error(x: Tensor, y: Tensor) -> Tensor:
    """Mean absolute difference per image (B,), over channels and pixels."""
    a, b = _pair(x, y)
    return (a - b).abs().mean((1, 2, 3))


def psnr(x: Tensor, y: Tensor, data_range: float) -> Tensor:
    """Peak signal-to-noise ratio per image (B,) in dB: 10 log10(data_range^2 / MSE), the MSE
    over channels and pixels; +inf for identical images."""
    a, b = _pair(x, y, data_range)
    mse = ((a - b) ** 2).mean((1, 2, 3))  # (B,)
    ratio = data_range**2 / mse.clamp_min(torch.finfo(torch.float64).tiny)
    return torch.where(mse > 0, 10.0 * torch.log10(ratio), torch.full_like(mse, torch.inf))


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> Tensor:
    """Normalised 1-D Gaussian taps (size,) in float64, centred on the middle tap."""
    offsets = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    taps = torch.exp(-(offsets**2) / (2 * sigma**2))
    return taps / taps.sum()


def _blur_valid(maps: Tensor, taps: Tensor) -> Tensor:
    """Separable Gaussian filter of (N, 1, H, W) maps where the window fits: (N, 1, H-10, W-10)."""
    h = F.conv2d(maps, taps.view(1, 1, -1, 1))  # (N, 1, H - 10, W)
    return F.conv2d(h, taps.view(1, 1, 1, -1))  # (N, 1, H - 10, W - 10)


def ssim_map(x: Tensor, y: Tensor, data_range: float) -> Tensor:
    """Local SSIM (B, C, H - 10, W - 10) of each channel (Wang et al. 2004, eq. 13).

    Means, variances and the covariance are weighted by an 11x11 Gaussian window (sigma 1.5,
    normalised), with population (not sample) moments, C1 = (0.01 R)^2, C2 = (0.03 R)^2, over
    the positions where the whole window fits: what scikit-image's ``structural_similarity``
    computes with ``gaussian_weights=True, sigma=1.5, use_sample_covariance=False`` after
    cropping its borders.
    """
    a, b = _pair(x, y, data_range)
    n, c, h, w = a.shape
    if min(h, w) < SSIM_WINDOW:
        raise GanforgeError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW}, got "
                            f"{h}x{w}")
    moments = torch.stack([a, b, a * a, b * b, a * b])  # (5, B, C, H, W)
    taps = gaussian_window().to(a.device)
    blurred = _blur_valid(moments.reshape(5 * n * c, 1, h, w), taps)
    mu_x, mu_y, xx, yy, xy = blurred.reshape(5, n, c, h - SSIM_WINDOW + 1, w - SSIM_WINDOW + 1)
    var_x, var_y, cov = xx - mu_x * mu_x, yy - mu_y * mu_y, xy - mu_x * mu_y
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    luminance = (2 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1)
    return luminance * (2 * cov + c2) / (var_x + var_y + c2)  # (B, C, H - 10, W - 10)


def ssim(x: Tensor, y: Tensor, data_range: float) -> Tensor:
    """Mean structural similarity per image (B,) (Wang et al. 2004, "Image quality assessment:
    from error visibility to structural similarity", IEEE TIP): the mean of :func:`ssim_map`
    over positions, then over channels. 1 for identical images."""
    return ssim_map(x, y, data_range).mean((2, 3)).mean(1)


def luma(x: Tensor) -> Tensor:
    """Grayscale (B, 1, H, W) float64 of (B, 1 or 3, H, W) images: gray as it is, RGB weighted
    by ITU-R BT.601 (0.299 R + 0.587 G + 0.114 B)."""
    a = x.to(torch.float64)
    if a.dim() != 4 or a.shape[1] not in (1, 3):
        raise GanforgeError(f"expected (B, 1 or 3, H, W) images, got {tuple(x.shape)}")
    if a.shape[1] == 1:
        return a
    weights = torch.tensor(LUMA_601, dtype=torch.float64, device=a.device).view(1, 3, 1, 1)
    return (a * weights).sum(1, keepdim=True)


def laplacian_variance(x: Tensor) -> Tensor:
    """Variance of the Laplacian per image (B,), a focus (sharpness) measure (Pech-Pacheco et al.
    2000, "Diatom autofocusing in brightfield microscopy: a comparative study", ICPR): the 3x3
    kernel [[0, 1, 0], [1, -4, 1], [0, 1, 0]] on the grayscale image (:func:`luma`), at the
    positions where it fits (no padding), population variance. In the units of x squared."""
    gray = luma(x)
    if min(gray.shape[-2:]) < 3:
        raise GanforgeError(f"the Laplacian needs images of at least 3x3, got "
                            f"{gray.shape[-2]}x{gray.shape[-1]}")
    kernel = torch.tensor(LAPLACIAN_3X3, dtype=torch.float64, device=gray.device)
    response = F.conv2d(gray, kernel.view(1, 1, 3, 3))  # (B, 1, H - 2, W - 2)
    return response.flatten(1).var(1, correction=0)
