"""The canonical DCGAN training loop (pytorch/examples' dcgan/main.py), written out as a student
writes it, on ganforge's DCGAN networks: the yardstick of benchmarks/speed.py.

Per step: D on a real batch, one G forward whose fake serves D's update (detached) and G's, BCE
(on D's logits: the examples' BCE on a sigmoid, computed stably), Adam 2e-4 (0.5, 0.999), and the
logged values read with `.item()` every step. bf16/fp16: torch.autocast around the forward
passes, a GradScaler for fp16.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from ganforge.nets.init import dcgan_init
from ganforge.train.precision import DTYPES

LATENT, BATCH = 100, 64


def batches(images: Tensor, seed: int, start: int = 0) -> Iterator[Tensor]:
    """Batches of uint8 images from a seeded permutation per epoch, from batch `start`, forever."""
    n = len(images) // BATCH
    epoch, skip = divmod(start, n)
    while True:
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed + epoch))
        for i in range(skip, n):
            yield images[order[i * BATCH:(i + 1) * BATCH]]
        epoch, skip = epoch + 1, 0


class PlainDCGAN:
    """G, D, their Adams and the loop's step."""

    def __init__(self, size: int, width: int, precision: str, device: torch.device,
                 seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.g = DCGANGenerator(LATENT, 1, size, width).to(device)
        self.d = DCGANDiscriminator(1, size, width).to(device)
        dcgan_init(self.g)
        dcgan_init(self.d)
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.criterion = nn.BCEWithLogitsLoss()
        self.scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
        self.precision, self.device = precision, device

    def autocast(self) -> Any:
        return torch.autocast(self.device.type, enabled=self.precision != "fp32",
                              dtype=DTYPES.get(self.precision, torch.bfloat16))

    def loss(self, out: Tensor, target: float) -> Tensor:
        return self.criterion(out.float(), torch.full_like(out, target, dtype=torch.float32))

    def step(self, real_u8: Tensor) -> dict[str, float]:
        """One D update and one G update on a uint8 batch; returns the logged values."""
        real = real_u8.to(self.device).float() / 127.5 - 1
        self.d.zero_grad()
        with self.autocast():
            out = self.d(real)
            err_real = self.loss(out, 1.0)
        self.scaler.scale(err_real).backward()
        d_x = torch.sigmoid(out.float()).mean().item()
        with self.autocast():
            fake = self.g(torch.randn(real.shape[0], LATENT, device=self.device))
            err_fake = self.loss(self.d(fake.detach()), 0.0)
        self.scaler.scale(err_fake).backward()
        self.scaler.step(self.opt_d)
        self.g.zero_grad()
        with self.autocast():
            err_g = self.loss(self.d(fake), 1.0)
        self.scaler.scale(err_g).backward()
        self.scaler.step(self.opt_g)
        self.scaler.update()
        return {"d_loss": (err_real + err_fake).item(), "g_loss": err_g.item(), "d_x": d_x}

    def state_dict(self) -> dict[str, Any]:
        """Networks, optimisers, scaler and the RNG: enough to continue the loop."""
        return {"g": self.g.state_dict(), "d": self.d.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "scaler": self.scaler.state_dict(), "rng": torch.get_rng_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.g.load_state_dict(state["g"])
        self.d.load_state_dict(state["d"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["rng"])
