"""Step values kept where they were computed until the log interval: reading a loss with
`float()` every step makes the host wait for the device (a CUDA sync) each step; reading the
steps since the last flush in one copy makes it wait once per interval."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

Value = Tensor | float


@dataclass
class Pending:
    """One step's logged values, not yet read, and the facts of the moment they were made."""

    step: int
    epoch: int
    index: int  # the batch's index in its epoch
    stats: dict[str, Value]  # 0-dim detached tensors (or plain numbers)
    time: float  # wall clock (seconds since the epoch), for the JSONL record
    clock: float  # time.perf_counter(), for images/s
    lrs: dict[str, float]  # each optimiser's learning rate during the step


def materialise(rows: list[dict[str, Value]]) -> list[dict[str, float]]:
    """`rows` with every tensor read as a Python float (the same float `float(t)` gives), in one
    device-to-host copy per device and dtype."""
    tensors = {id(v): v for row in rows for v in row.values() if isinstance(v, Tensor)}
    groups: dict[tuple[torch.device, torch.dtype], list[Tensor]] = {}
    for t in tensors.values():
        groups.setdefault((t.device, t.dtype), []).append(t)
    values: dict[int, float] = {}
    for group in groups.values():
        flat = torch.stack([t.detach().reshape(()) for t in group]).cpu().double().tolist()
        values.update(zip(map(id, group), flat))
    return [{k: values[id(v)] if isinstance(v, Tensor) else float(v) for k, v in row.items()}
            for row in rows]
