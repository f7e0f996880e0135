"""The processes of a run started by torchrun: who this process is, the process group, and the
few collectives the rest of the package needs (a value from rank 0, a mean, an agreement).

torchrun sets RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT in every process it starts
(on every node with --nnodes/--rdzv-endpoint); `joined()` builds the process group from them
when WORLD_SIZE > 1 and does nothing otherwise, so a plain `ganforge train` is unchanged. One
group serves both kinds of tensor: gloo for CPU tensors, NCCL for CUDA ones where there is a GPU.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from ganforge.errors import ConfigError, GanforgeError, RunError

T = TypeVar("T")


@dataclass(frozen=True)
class World:
    """This process's place among the processes of one run (a single process: rank 0 of 1)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Rank 0: the one process that writes the run folder and prints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """More than one process trains this run."""
        return self.size > 1

    @staticmethod
    def current() -> World:
        """The world of the process group this process has joined (single when none)."""
        if not (dist.is_available() and dist.is_initialized()):
            return World()
        local = int(os.environ.get("LOCAL_RANK", "0"))
        return World(dist.get_rank(), dist.get_world_size(), local)


def _env_size() -> int:
    """WORLD_SIZE as torchrun set it (1 outside torchrun); a bad value is a one-line error."""
    text = os.environ.get("WORLD_SIZE", "1")
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"WORLD_SIZE is '{text}', not a positive integer; start several "
                          "processes with torchrun --nproc_per_node=N -m ganforge train …")
    return int(text)


@contextmanager
def joined() -> Iterator[World]:
    """The process group of this torchrun process for the duration of the block (created here,
    and destroyed at the end, unless the caller already made one)."""
    if dist.is_available() and dist.is_initialized():
        yield World.current()
        return
    if _env_size() == 1:
        yield World()
        return
    if not dist.is_available():
        raise ConfigError("this torch build has no torch.distributed; run one process")
    local = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available() and local < torch.cuda.device_count()
    if cuda:
        torch.cuda.set_device(local)  # object collectives go through this rank's own GPU
    dist.init_process_group("cpu:gloo,cuda:nccl" if cuda else "gloo")
    try:
        yield World.current()
    except BaseException:
        dist.destroy_process_group()  # no barrier: the others may wait in a collective
        raise
    dist.barrier()  # every rank is past its last collective before any connection closes
    dist.destroy_process_group()


def training_device(name: str, world: World) -> torch.device | None:
    """The device of this rank, or None for a single process (its usual --device rules apply):
    cuda:LOCAL_RANK with one GPU per process, else the CPU."""
    if not world.distributed:
        return None
    if name == "mps":
        raise ConfigError("--device mps cannot train with several processes; use --device cpu "
                          "or cuda")
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if world.local_rank >= count:
        raise ConfigError(f"process {world.local_rank} of this node has no GPU of its own "
                          f"({count} visible); start at most {count} processes per node "
                          "(--nproc_per_node) or train with --device cpu")
    return torch.device("cuda", world.local_rank)


def broadcast(value: T, world: World) -> T:
    """Rank 0's `value` on every rank (any picklable value)."""
    if not world.distributed:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def from_main(fn: Callable[[], T], world: World) -> T:
    """`fn()` run on rank 0 only, its result (or its one-line error) on every rank, so that a
    refusal there (a run folder already in use, a bad option) stops every process alike."""
    if not world.distributed:
        return fn()
    outcome: Any = None
    if world.main:
        try:
            outcome = ("ok", fn())
        except GanforgeError as exc:
            outcome = ("error", exc)
        except BaseException as exc:
            broadcast(("error", RunError(f"rank 0 failed: {type(exc).__name__}: {exc}")), world)
            raise
    kind, value = broadcast(outcome, world)
    if kind == "error":
        raise value
    return value  # type: ignore[no-any-return]


def local_first(fn: Callable[[], T], world: World) -> T:
    """`fn()` on every rank, the first process of each node before the others (a dataset it
    downloads or unpacks is then there when they read it); its one-line error stops them all."""
    if not world.distributed:
        return fn()
    value: Any = None
    error: GanforgeError | None = None
    if world.local_rank == 0:
        try:
            value = fn()
        except GanforgeError as exc:
            error = exc
    failed = torch.tensor([float(error is not None)])
    dist.all_reduce(failed)  # the barrier: every first process has finished
    if error is not None:
        raise error
    if failed.item() > 0:
        raise RunError("another process of this run could not load the data (its error says "
                       "why)")
    return value if world.local_rank == 0 else fn()  # type: ignore[no-any-return]


def mean_and_any(values: list[float], flag: bool, world: World) -> tuple[list[float], bool]:
    """The mean of each value over the ranks, and whether `flag` is set on any rank, in one
    all-reduce (float64, on the CPU: these are a handful of logged numbers)."""
    if not world.distributed:
        return values, flag
    t = torch.tensor([*values, float(flag)], dtype=torch.float64)
    dist.all_reduce(t)
    means = (t[:-1] / world.size).tolist()
    return means, bool(t[-1] > 0)
