"""PSNR, SSIM and L1 per image, against scikit-image and closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganforge.errors import GanforgeError
from ganforge.metrics import l1_error, psnr, ssim
from ganforge.metrics.image_quality import gaussian_window, ssim_map

metrics = pytest.importorskip("skimage.metrics")


def reference_ssim(x: torch.Tensor, y: torch.Tensor, data_range: float) -> list[float]:
    """scikit-image's SSIM with the settings of Wang et al. 2004, per image, float64 inputs."""
    return [float(metrics.structural_similarity(
        a.double().numpy(), b.double().numpy(), data_range=data_range, channel_axis=0,
        gaussian_weights=True, sigma=1.5, use_sample_covariance=False)) for a, b in zip(x, y)]


def reference_psnr(x: torch.Tensor, y: torch.Tensor, data_range: float) -> list[float]:
    return [float(metrics.peak_signal_noise_ratio(a.double().numpy(), b.double().numpy(),
                                                  data_range=data_range)) for a, b in zip(x, y)]


def structured(n: int, c: int, size: int, g: torch.Generator) -> torch.Tensor:
    """Images in [0, 1] with edges, gradients and texture: ramps, a disc, stripes, mild noise."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    out = []
    for i in range(n):
        disc = (((xx - 0.3 - 0.05 * i) ** 2 + (yy - 0.6) ** 2) < 0.05).float()
        stripes = 0.5 + 0.5 * torch.sin(2 * math.pi * (3 + i) * (xx + 0.3 * yy))
        chans = [0.4 * xx + 0.3 * disc + 0.3 * stripes, yy * disc, stripes * (1 - yy)]
        out.append(torch.stack(chans[:c]))
    images = torch.stack(out) + 0.02 * torch.randn(n, c, size, size, generator=g)
    return images.clamp(0, 1)


def pairs() -> list[tuple[str, torch.Tensor, torch.Tensor, float]]:
    g = torch.Generator().manual_seed(0)
    rand_x, rand_y = torch.rand(3, 3, 32, 40, generator=g), torch.rand(3, 3, 32, 40, generator=g)
    clean = structured(4, 3, 48, g)
    noisy = (clean + 0.1 * torch.randn(clean.shape, generator=g)).clamp(0, 1)
    shifted = torch.roll(clean, 2, dims=-1)
    gray = structured(2, 1, 24, g)
    uint8_like = torch.round(clean * 255)
    return [
        ("random", rand_x, rand_y, 1.0),
        ("noisy", clean, noisy, 1.0),
        ("shifted", clean, shifted, 1.0),
        ("gray-dark", gray, 0.5 * gray, 1.0),
        ("tanh-range", clean * 2 - 1, noisy * 2 - 1, 2.0),
        ("uint8-range", uint8_like, torch.round(noisy * 255), 255.0),
        ("float32-vs-64", clean.float(), noisy.double(), 1.0),
    ]


@pytest.mark.parametrize(("name", "x", "y", "data_range"), pairs(), ids=[p[0] for p in pairs()])
def test_ssim_matches_scikit_image(name: str, x: torch.Tensor, y: torch.Tensor,
                                   data_range: float) -> None:
    got = ssim(x, y, data_range)
    assert got.shape == (len(x),) and got.dtype == torch.float64
    # float64 both sides: the two agree far below the 1e-4 asked of them
    np.testing.assert_allclose(got.numpy(), reference_ssim(x, y, data_range), rtol=0, atol=1e-10)


@pytest.mark.parametrize(("name", "x", "y", "data_range"), pairs(), ids=[p[0] for p in pairs()])
def test_psnr_matches_scikit_image(name: str, x: torch.Tensor, y: torch.Tensor,
                                   data_range: float) -> None:
    got = psnr(x, y, data_range)
    assert got.shape == (len(x),) and got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), reference_psnr(x, y, data_range), rtol=0, atol=1e-4)


def test_identical_images_give_ssim_one_and_psnr_inf() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 3, 16, 16, generator=g)
    y = x.clone()
    y[1] = 1 - y[1]
    assert ssim(x, x, 1.0).tolist() == [1.0, 1.0]
    values = psnr(x, y, 1.0)
    assert values[0] == math.inf and math.isfinite(values[1])
    assert l1_error(x, x).tolist() == [0.0, 0.0]


def test_closed_forms_on_constant_images() -> None:
    a, b, r = 0.2, 0.7, 1.0
    x, y = torch.full((1, 1, 12, 12), a), torch.full((1, 1, 12, 12), b)
    c1 = (0.01 * r) ** 2  # no variance: SSIM is the luminance term alone
    assert ssim(x, y, r).item() == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), abs=1e-7)
    assert psnr(x, y, r).item() == pytest.approx(10 * math.log10(r**2 / (a - b) ** 2), abs=1e-5)
    assert l1_error(x, y).item() == pytest.approx(0.5, abs=1e-7)


def test_per_image_values_do_not_depend_on_the_batch() -> None:
    g = torch.Generator().manual_seed(2)
    x, y = torch.rand(4, 3, 20, 20, generator=g), torch.rand(4, 3, 20, 20, generator=g)
    for fn in (lambda a, b: ssim(a, b, 1.0), lambda a, b: psnr(a, b, 1.0), l1_error):
        whole = fn(x, y)
        single = torch.cat([fn(x[i : i + 1], y[i : i + 1]) for i in range(4)])
        torch.testing.assert_close(whole, single)


def test_l1_error_by_hand_and_ssim_channel_average() -> None:
    x = torch.zeros(1, 2, 11, 11)
    y = torch.zeros(1, 2, 11, 11)
    y[0, 1] = 0.4  # half the values off by 0.4
    assert l1_error(x, y).item() == pytest.approx(0.2)
    per_channel = ssim_map(x, y, 1.0).mean((2, 3))[0]  # (2,): the window fits once
    assert per_channel[0].item() == 1.0
    assert ssim(x, y, 1.0).item() == pytest.approx(per_channel.mean().item())


def test_window_is_the_normalised_gaussian() -> None:
    taps = gaussian_window()
    assert taps.shape == (11,) and taps.sum().item() == pytest.approx(1.0, abs=1e-15)
    assert taps[0] / taps[5] == pytest.approx(math.exp(-25 / (2 * 1.5**2)))


def test_bad_inputs_fail_with_one_line_errors() -> None:
    x = torch.zeros(2, 3, 16, 16)
    with pytest.raises(GanforgeError, match="batches of one shape"):
        ssim(x, x[:1], 1.0)
    with pytest.raises(GanforgeError, match="data_range must be > 0"):
        psnr(x, x, 0.0)
    with pytest.raises(GanforgeError, match="at least 11x11"):
        ssim(x[..., :8, :8], x[..., :8, :8], 1.0)
    with pytest.raises(GanforgeError, match=r"\(B, C, H, W\)"):
        l1_error(x[0], x[0])


def test_laplacian_variance_matches_scipy_on_the_luma() -> None:
    from scipy import ndimage

    from ganforge.metrics import laplacian_variance

    g = torch.Generator().manual_seed(3)
    rgb, gray = structured(3, 3, 40, g), structured(2, 1, 24, g)
    for images in (rgb, gray, rgb * 255):
        arr = images.double().numpy()
        lum = arr[:, 0] if arr.shape[1] == 1 else np.tensordot([0.299, 0.587, 0.114], arr,
                                                               axes=([0], [1]))
        expected = [ndimage.laplace(im)[1:-1, 1:-1].var() for im in lum]  # interior: no border
        got = laplacian_variance(images)
        assert got.dtype == torch.float64
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)


def test_laplacian_variance_closed_forms() -> None:
    from ganforge.metrics import laplacian_variance

    yy, xx = torch.meshgrid(torch.arange(10.0), torch.arange(10.0), indexing="ij")
    ramp = (xx + 2 * yy).view(1, 1, 10, 10)
    assert laplacian_variance(ramp).item() == 0.0  # linear: no edges
    checker = ((xx + yy) % 2).view(1, 1, 10, 10)  # response -4, +4 on 8x8 positions: var 16
    assert laplacian_variance(checker).item() == pytest.approx(16.0)
    assert laplacian_variance(checker.expand(1, 3, 10, 10)).item() == pytest.approx(16.0)
    with pytest.raises(GanforgeError, match="1 or 3"):
        laplacian_variance(torch.zeros(1, 2, 9, 9))
    with pytest.raises(GanforgeError, match="at least 3x3"):
        laplacian_variance(torch.zeros(1, 1, 2, 9))
