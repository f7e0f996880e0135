"""What differs between the ranks of a run, kept in its checkpoint so that a resume on as many
processes continues bitwise: each rank's random generators and the variant's buffers and extra
state (BatchNorm running statistics, image pools, unrolling moments: each from its own shard).
Parameters and optimiser states are the same on every rank (DDP averages the gradients before
every step), so rank 0's are the checkpoint's; `gather` checks that they still are.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn

from ganforge.errors import RunError
from ganforge.train.distributed.world import World
from ganforge.train.rng import rng_state, set_rng_state


def rank_state(variant: nn.Module) -> dict[str, Any]:
    """This rank's own state: RNG, and the variant's entries that are not parameters."""
    params = {name for name, _ in variant.named_parameters()}
    own = {k: v.detach().cpu() if isinstance(v, Tensor) else v
           for k, v in variant.state_dict().items() if k not in params}
    return {"rng": rng_state(), "variant": own}


def weights_digest(variant: nn.Module) -> list[float]:
    """A float64 sum per parameter: equal on every rank while the ranks train in step."""
    return [float(p.detach().double().sum()) for p in variant.parameters()]


def gather(variant: nn.Module, world: World) -> list[dict[str, Any]] | None:
    """Every rank's `rank_state`, in rank order, on rank 0 (None on the others); a rank whose
    weights went apart from rank 0's is a RunError (a network called outside its wrapper)."""
    mine = {"state": rank_state(variant), "digest": weights_digest(variant)}
    parts: list[Any] | None = [None] * world.size if world.main else None
    dist.gather_object(mine, parts, dst=0)
    if parts is None:
        return None
    for rank, part in enumerate(parts):
        if part["digest"] != mine["digest"]:
            raise RunError(f"the weights of rank {rank} differ from rank 0's: a network was "
                           "trained outside its DistributedDataParallel wrapper")
    return [part["state"] for part in parts]


def apply(variant: nn.Module, state: dict[str, Any], world: World, device: torch.device
          ) -> bool:
    """Restore this rank's part of a checkpoint's "distributed" entry; False (and nothing done
    but the GPU generator) when the checkpoint was saved by another number of processes."""
    part = state.get("distributed")
    if isinstance(part, dict) and part.get("world_size") == world.size:
        own = part["ranks"][world.rank]
        variant.load_state_dict({**variant.state_dict(), **own["variant"]})
        set_rng_state(own["rng"])
        return True
    cuda = state.get("rng", {}).get("cuda")
    if device.type == "cuda" and cuda:  # rank 0 used its first GPU: its generator is ours
        torch.cuda.set_rng_state(cuda[0], device)
    return False
