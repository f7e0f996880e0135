"""TF-1 bilinear resize against an independent plain-loop implementation of the TF-1 formula."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganforge.errors import DataError
from ganforge.features.resize import tf1_bilinear_resize


def tf1_reference(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """TF-1 resize_bilinear(align_corners=False) of an (H, W) array, written as a double loop."""
    in_h, in_w = img.shape
    sy, sx = in_h / out_h, in_w / out_w
    out = np.zeros((out_h, out_w), dtype=np.float64)
    for i in range(out_h):
        fy = i * sy
        y0 = int(np.floor(fy))
        y1 = min(y0 + 1, in_h - 1)
        wy = fy - y0
        for j in range(out_w):
            fx = j * sx
            x0 = int(np.floor(fx))
            x1 = min(x0 + 1, in_w - 1)
            wx = fx - x0
            top = img[y0, x0] * (1 - wx) + img[y0, x1] * wx
            bottom = img[y1, x0] * (1 - wx) + img[y1, x1] * wx
            out[i, j] = top * (1 - wy) + bottom * wy
    return out


SIZES = [
    ((5, 7), (11, 13)),  # upsample, non-square
    ((8, 8), (3, 3)),  # downsample
    ((6, 9), (9, 4)),  # up in one axis, down in the other
    ((4, 4), (8, 8)),  # integer upsample factor
    ((10, 10), (5, 5)),  # integer downsample factor
    ((3, 5), (29, 31)),  # large non-integer factor
    ((1, 4), (3, 2)),  # single row
]


@pytest.mark.parametrize(("in_size", "out_size"), SIZES)
def test_matches_loop_reference(in_size: tuple[int, int], out_size: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, size=(2, 3, *in_size)).astype(np.float32)
    got = tf1_bilinear_resize(torch.from_numpy(x), out_size).numpy()
    assert got.shape == (2, 3, *out_size)
    assert got.dtype == np.float32
    for n in range(2):
        for c in range(3):
            want = tf1_reference(x[n, c].astype(np.float64), *out_size)
            np.testing.assert_allclose(got[n, c], want, rtol=0, atol=1e-3)


def test_uint8_input_is_resized_as_float() -> None:
    x = torch.randint(
        0, 256, (1, 1, 5, 6), dtype=torch.uint8, generator=torch.Generator().manual_seed(1)
    )
    got = tf1_bilinear_resize(x, (7, 9))
    assert got.dtype == torch.float32
    want = tf1_reference(x[0, 0].numpy().astype(np.float64), 7, 9)
    np.testing.assert_allclose(got[0, 0].numpy(), want, atol=1e-3)


def test_first_output_pixel_is_the_first_source_pixel() -> None:
    """No half-pixel centres: output (0, 0) samples the source exactly at (0, 0)."""
    x = torch.arange(12, dtype=torch.float32).reshape(1, 1, 3, 4)
    got = tf1_bilinear_resize(x, (7, 9))
    assert got[0, 0, 0, 0].item() == 0.0
    # Upsampling by 2 in TF-1 yields source, midpoint, source, ..., last value repeated.
    row = tf1_bilinear_resize(torch.tensor([[[[0.0, 2.0, 4.0]]]]), (1, 6))
    assert row.flatten().tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 4.0]


@pytest.mark.parametrize(
    ("in_size", "out_size"), [((5, 7), (11, 13)), ((8, 8), (3, 3)), ((4, 4), (8, 8))]
)
def test_differs_from_half_pixel_interpolate(
    in_size: tuple[int, int], out_size: tuple[int, int]
) -> None:
    x = torch.rand(1, 3, *in_size, generator=torch.Generator().manual_seed(2)) * 255
    ours = tf1_bilinear_resize(x, out_size)
    theirs = F.interpolate(x, size=out_size, mode="bilinear", align_corners=False)
    assert (ours - theirs).abs().max().item() > 1.0


def test_identity_size_equals_interpolate_and_input() -> None:
    """At the identity size both conventions map pixel i to source i: the input comes back."""
    x = torch.rand(2, 3, 6, 5, generator=torch.Generator().manual_seed(3)) * 255
    ours = tf1_bilinear_resize(x, (6, 5))
    theirs = F.interpolate(x, size=(6, 5), mode="bilinear", align_corners=False)
    torch.testing.assert_close(ours, x)
    torch.testing.assert_close(ours, theirs)


def test_bad_input_is_a_one_line_error() -> None:
    with pytest.raises(DataError, match="NCHW") as info:
        tf1_bilinear_resize(torch.zeros(3, 4, 4), (2, 2))
    assert "\n" not in str(info.value)
    with pytest.raises(DataError, match="positive"):
        tf1_bilinear_resize(torch.zeros(1, 3, 4, 4), (0, 2))
