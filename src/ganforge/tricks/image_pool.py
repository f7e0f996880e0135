"""A history of generated images for the discriminator (Shrivastava et al. 2017, "Learning from
simulated and unsupervised images through adversarial training", CVPR, §2.3), as used by
CycleGAN (Zhu et al. 2017, §4: a buffer of the 50 previously generated images).

D is updated on a mix of the newest fakes and older ones, which damps the oscillation of G and D
chasing each other. Per image, as the official ``ImagePool``: while the pool is not full the
image is stored and returned; once it is full, with probability 0.5 a random stored image is
returned and replaced by the new one, else the new one is returned.

Everything that decides future outputs is in ``state_dict()``, so a resumed run continues
bitwise: the stored images and their count are buffers, and the private random generator's
state travels as extra state (a dict holding one uint8 tensor, readable with
``torch.load(weights_only=True)``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ganforge.errors import ConfigError


class ImagePool(nn.Module):
    """Pool of up to `pool_size` past images (C, H, W); ``query`` mixes them into a batch.

    ``image_shape`` allocates the pool at construction; without it the pool takes the shape,
    dtype and device of the first batch it sees (and a fresh lazy pool takes the shape of a
    state dict loaded into it). ``pool_size=0`` turns the pool off: ``query`` returns its input.
    Outputs are detached: the pool only feeds D's loss.
    """

    images: Tensor
    num_stored: Tensor

    def __init__(
        self, pool_size: int = 50, image_shape: tuple[int, int, int] | None = None, seed: int = 0
    ) -> None:
        super().__init__()
        if pool_size < 0:
            raise ConfigError(f"image pool size must be >= 0 (0 turns it off), got {pool_size}")
        self.pool_size = pool_size
        self.generator = torch.Generator().manual_seed(seed)
        shape = (pool_size, *image_shape) if image_shape is not None and pool_size else (0,)
        self.register_buffer("images", torch.zeros(shape))  # (pool_size, C, H, W) once allocated
        self.register_buffer("num_stored", torch.zeros((), dtype=torch.long))

    def _allocate(self, like: Tensor) -> None:
        """Allocate the stored images like one batch's images, or check the batch fits them."""
        if self.images.numel() == 0:
            self.images = like.new_zeros((self.pool_size, *like.shape[1:]))
        elif like.shape[1:] != self.images.shape[1:]:
            raise ConfigError(f"image pool holds images of shape {tuple(self.images.shape[1:])},"
                              f" got a batch of {tuple(like.shape[1:])}")

    def _coin(self) -> bool:
        """True with probability 0.5: return an old image for this one."""
        return bool(torch.rand((), generator=self.generator) < 0.5)

    def _slot(self) -> int:
        """A stored image's index, uniformly."""
        return int(torch.randint(self.pool_size, (), generator=self.generator))

    @torch.no_grad()
    def query(self, images: Tensor) -> Tensor:
        """A batch (B, C, H, W) of the same size: per image, itself or an older stored one."""
        if self.pool_size == 0:
            return images.detach()
        self._allocate(images)
        out = images.detach().clone()  # (B, C, H, W)
        for i in range(len(images)):
            n = int(self.num_stored)
            if n < self.pool_size:
                self.images[n] = images[i]
                self.num_stored += 1
            elif self._coin():
                j = self._slot()
                out[i] = self.images[j]
                self.images[j] = images[i]
        return out

    def forward(self, images: Tensor) -> Tensor:
        """Same as :meth:`query`."""
        return self.query(images)

    def get_extra_state(self) -> dict[str, Tensor]:
        """The private generator's state, saved with the buffers."""
        return {"generator": self.generator.get_state()}

    def set_extra_state(self, state: Any) -> None:
        """Restore the private generator's state from a loaded state dict."""
        self.generator.set_state(state["generator"].to("cpu", torch.uint8).contiguous())

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str,
                              *args: Any, **kwargs: Any) -> None:
        """A lazily allocated (or never filled) pool takes the shape of the stored images."""
        stored = state_dict.get(prefix + "images")
        if (isinstance(stored, Tensor) and stored.shape != self.images.shape
                and 0 in (stored.numel(), self.images.numel())):
            self.images = stored.new_empty(stored.shape, device=self.images.device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
