"""PacGAN (Lin et al. 2018, "PacGAN: the power of two samples in generative adversarial
networks"): D judges packs of M samples drawn from one source, concatenated, so a generator whose
samples are all alike is easier to tell from the data than each sample alone would be (§3).

A pack is M consecutive samples of one batch, so real packs hold only real samples and fake packs
only fakes; they are joined on the channel axis, (B, C, ...) -> (B / M, M C, ...), which is the
feature axis for points and flattened inputs. D's input layer is M times as wide.
"""

from __future__ import annotations

from torch import Tensor

from ganforge.errors import ConfigError


def pack(x: Tensor, m: int) -> Tensor:
    """Join runs of `m` consecutive samples on the channel axis: (B, C, ...) -> (B/m, mC, ...)."""
    if m == 1:
        return x
    b = x.shape[0]
    if b % m:
        raise ConfigError(f"a batch of {b} samples does not split into packs of {m}; use a batch "
                          "size divisible by --pack")
    grouped = x.reshape(b // m, m, *x.shape[1:])  # (B/m, m, C, ...): pack i = samples i*m..i*m+m-1
    return grouped.flatten(1, 2)  # (B/m, m*C, ...)
