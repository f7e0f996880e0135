"""Training on several processes, GPUs and machines, started by torchrun:

    torchrun --nproc_per_node=N -m ganforge train MODEL …

`world` joins the process group torchrun describes; `trainer` is the trainer of one rank (DDP
per network, sharded batches and noise, one writer); `wrap`, `shard`, `sync_bn` and `state` are
its parts. A single process never touches any of it: `trainer_class` gives the plain Trainer.
"""

from __future__ import annotations

from ganforge.config import TrainConfig
from ganforge.train.distributed.world import (
    World,
    broadcast,
    from_main,
    joined,
    local_first,
    training_device,
)
from ganforge.train.trainer import Trainer


def check_config(cfg: TrainConfig, world: World) -> None:
    """One-line errors for options several processes cannot train with (none for one)."""
    if world.distributed:
        from ganforge.train.distributed.trainer import check_config as check

        check(cfg, world)


def trainer_class(world: World) -> type[Trainer]:
    """The trainer of a process of `world`: the plain one unless several processes train."""
    if not world.distributed:
        return Trainer
    from ganforge.train.distributed.trainer import DistributedTrainer

    return DistributedTrainer


__all__ = ["World", "broadcast", "check_config", "from_main", "joined", "local_first",
           "trainer_class", "training_device"]
