"""Load-time shaping of uint8 images: resize, channel conversion, and the two in the order
`load_dataset` applies them (gray first when reducing). Every function works image by image, so
applying it to chunks of a dataset gives the same bytes as applying it to the whole (what
`ganforge prepare` relies on to write a cache equal to the in-memory data)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ganforge.errors import ConfigError

CHUNK_BYTES = 1 << 26  # float32 working memory per resize / conversion chunk
LUMA_601 = (0.299, 0.587, 0.114)


def resize_images(images: Tensor, size: int) -> Tensor:
    """Resize uint8 (N, C, H, W) images to `size` x `size` (bilinear, antialiased), in chunks."""
    n, c, h, w = images.shape
    if (h, w) == (size, size):
        return images
    out = torch.empty((n, c, size, size), dtype=torch.uint8)
    step = max(1, CHUNK_BYTES // (4 * c * max(h * w, size * size)))
    for i in range(0, n, step):
        x = images[i : i + step].float()
        y = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True)
        out[i : i + step] = y.round_().clamp_(0, 255).to(torch.uint8)
    return out


def convert_channels(images: Tensor, channels: int) -> Tensor:
    """Convert uint8 images between 1 and 3 channels (gray repeats; RGB uses ITU-R 601 luma)."""
    c = images.shape[1]
    if c == channels:
        return images
    if c == 1 and channels == 3:
        return images.expand(-1, 3, -1, -1).contiguous()
    if c != 3 or channels != 1:
        raise ConfigError(f"cannot convert {c}-channel images to {channels} channels")
    weights = torch.tensor(LUMA_601).view(1, 3, 1, 1)
    out = torch.empty((images.shape[0], 1, *images.shape[2:]), dtype=torch.uint8)
    step = max(1, CHUNK_BYTES // (4 * images[0].numel()))
    for i in range(0, len(images), step):
        gray = (images[i : i + step].float() * weights).sum(1, keepdim=True)
        out[i : i + step] = gray.round_().clamp_(0, 255).to(torch.uint8)
    return out


def check_image_options(image_size: int | None, channels: int | None) -> None:
    """One-line errors for an invalid --image-size or --channels."""
    if image_size is not None and int(image_size) <= 0:
        raise ConfigError(f"image size must be positive, got {image_size}; use --image-size 32")
    if channels is not None and channels not in (1, 3):
        raise ConfigError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels}")


def shape_images(images: Tensor, image_size: int | None, channels: int | None) -> Tensor:
    """Apply the load-time resize and channel conversion (gray first when reducing)."""
    if channels == 1:
        images = convert_channels(images, 1)
    if image_size is not None:
        images = resize_images(images, int(image_size))
    if channels == 3:
        images = convert_channels(images, 3)
    return images
