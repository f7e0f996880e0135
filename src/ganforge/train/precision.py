"""`--precision`: the float type the forward passes run in, and why it was chosen.

Autocast wraps each phase's loss closure (the forward passes); the losses cast D's outputs to
fp32 (losses/adversarial.py), the gradient penalty's norm is fp32, and the parameters, their
gradients and the optimiser state stay fp32. fp16 needs a gradient scaler (one per optimiser,
saved in the checkpoint) and is offered on CUDA only: CPUs without AVX512-FP16 emulate it slowly
and torch's CPU autocast favours bf16.
"""

from __future__ import annotations

import contextlib
import platform
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ganforge.errors import ConfigError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
#: /proc/cpuinfo flags of CPUs that compute bf16 natively (Intel AMX, AVX512-BF16; AMD Zen 4+).
BF16_FLAGS = ("amx_bf16", "avx512_bf16")
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
#: The model name `cpu_facts` gives where /proc/cpuinfo has none.
UNKNOWN_CPU = "unknown CPU"


def native_bf16_flag(flags: Iterable[str]) -> str | None:
    """The first native-bf16 flag among a CPU's flags, or None when it has none."""
    have = set(flags)
    return next((f for f in BF16_FLAGS if f in have), None)


def cpu_facts(path: Path = Path("/proc/cpuinfo")) -> tuple[frozenset[str], str]:
    """(flags, model name) of this machine's CPU; empty where /proc/cpuinfo is unreadable."""
    flags: frozenset[str] = frozenset()
    name = UNKNOWN_CPU
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return flags, name
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == "flags" and not flags:
            flags = frozenset(value.split())
        elif key.strip() == "model name" and name == UNKNOWN_CPU:
            name = value.strip()
    return flags, name


def cpu_name() -> str:
    """This CPU's model name for a figure's record (the platform's processor string where
    /proc/cpuinfo has none)."""
    name = cpu_facts()[1]
    return name if name != UNKNOWN_CPU else platform.processor() or platform.machine()


def choose(requested: str, device_type: str, cpu_flags: Iterable[str] = (),
           cpu_model: str = "", cuda_capability: tuple[int, int] | None = None) -> tuple[str, str]:
    """(precision, why) for `requested` on a device: a pure function of the facts given."""
    if requested not in PRECISIONS:
        raise ConfigError(f"unknown --precision value '{requested}'; choose from: "
                          f"{', '.join(PRECISIONS)}")
    if requested == "fp16" and device_type != "cuda":
        raise ConfigError(f"--precision fp16 needs a CUDA GPU (it trains with a gradient "
                          f"scaler there); on {device_type} use --precision bf16 or fp32")
    if requested != "auto":
        return requested, "asked for with --precision"
    if device_type == "cuda" and cuda_capability is not None:
        major, minor = cuda_capability
        if cuda_capability >= (8, 0):
            return "bf16", f"auto: CUDA compute capability {major}.{minor} runs bf16 natively"
        return "fp32", f"auto: CUDA compute capability {major}.{minor} < 8.0 has no native bf16"
    if device_type == "cpu":
        flag = native_bf16_flag(cpu_flags)
        if flag is not None:
            return "bf16", f"auto: CPU has {flag} ({cpu_model})"
        return "fp32", f"auto: no native bf16 on this CPU ({cpu_model})"
    return "fp32", f"auto: fp32 on {device_type}"


def resolve(requested: str, device: torch.device) -> tuple[str, str]:
    """`choose` with the facts of this machine."""
    flags, name = cpu_facts()
    capability = (torch.cuda.get_device_capability(device)
                  if device.type == "cuda" and torch.cuda.is_available() else None)
    return choose(requested, device.type, flags, name, capability)


@dataclass
class Precision:
    """The chosen precision of a run: autocast for the forward passes, scalers for fp16."""

    name: str
    why: str
    device_type: str
    scalers: dict[str, Any] = field(default_factory=dict)  # fp16: a GradScaler per group

    @classmethod
    def for_run(cls, requested: str, device: torch.device) -> Precision:
        """Resolve `requested` (auto, fp32, bf16, fp16) for `device`."""
        name, why = resolve(requested, device)
        return cls(name, why, device.type)

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """The context of the forward passes: autocast to bf16/fp16, or nothing for fp32."""
        if self.name == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=DTYPES[self.name])

    def backward_step(self, group: str, loss: Tensor, opt: torch.optim.Optimizer) -> None:
        """loss.backward() and opt.step(), through the group's gradient scaler under fp16."""
        if self.name != "fp16":
            loss.backward()
            opt.step()
            return
        if group not in self.scalers:
            self.scalers[group] = torch.amp.GradScaler(self.device_type)
        scaler = self.scalers[group]
        scaler.scale(loss).backward()
        scaler.step(opt)  # skipped when a gradient is Inf/NaN; the scale then shrinks
        scaler.update()

    def state_dict(self) -> dict[str, Any]:
        """The scalers' states (empty unless fp16)."""
        return {g: s.state_dict() for g, s in self.scalers.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the scalers saved by `state_dict`."""
        for group, saved in state.items():
            scaler = torch.amp.GradScaler(self.device_type)
            scaler.load_state_dict(saved)
            self.scalers[group] = scaler
