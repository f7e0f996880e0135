"""Gradient averaging by DistributedDataParallel, one wrapper per trained network, so that each
phase averages only the gradients of its own group (one wrapper over G and D together would
average both in every phase and break the alternating updates).

The variant keeps its plain modules: its state_dict, exports and checkpoints are those of a
single process. Each trained network gets a `SyncedNet` standing in for it as an attribute
of its owner (in the instance's __dict__, which attribute lookup reads before nn.Module's
registry, which keeps the plain module). A call goes through the DDP wrapper when it trains
that network: gradients on, the network in train mode and its parameters not frozen by the
trainer (which freezes every other group during a phase). Any other call (the frozen D in G's
phase, G under no_grad in D's phase, previews) goes to the plain module and syncs nothing.
forward and the network's own methods (forward_features, …) go through DDP; nn.Module's own
methods (parameters(), train(), …) and attributes reach the plain module.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from ganforge.errors import ConfigError
from ganforge.variants.base import Variant


class _Dispatch(nn.Module):
    """Calls the method `name` of `net`: one DDP wrapper then serves every entry point."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, name: str, *args: Any, **kwargs: Any) -> Any:  # a pass-through
        return getattr(self.net, name)(*args, **kwargs)


def _own_method(net: nn.Module, name: str) -> bool:
    """True for a method defined by the network's class (not by nn.Module or above)."""
    for cls in type(net).__mro__:
        if cls is nn.Module:
            return False
        if callable(cls.__dict__.get(name)) and not name.startswith("_"):
            return True
    return False


class SyncedNet:
    """Stands in for one trained network; see the module docstring."""

    def __init__(self, net: nn.Module, ddp: DistributedDataParallel) -> None:
        self.__dict__.update(_net=net, _ddp=ddp, _params=list(net.parameters()))

    def _syncing(self) -> bool:
        net = self.__dict__["_net"]
        return (torch.is_grad_enabled() and net.training
                and any(p.requires_grad for p in self.__dict__["_params"]))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._syncing():
            return self.__dict__["_ddp"]("forward", *args, **kwargs)
        return self.__dict__["_net"](*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        net = self.__dict__["_net"]
        if not _own_method(net, name):
            return getattr(net, name)
        plain = getattr(net, name)
        ddp = self.__dict__["_ddp"]

        def call(*args: Any, **kwargs: Any) -> Any:
            return ddp(name, *args, **kwargs) if self._syncing() else plain(*args, **kwargs)
        return call

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.__dict__["_net"], name, value)

    @property
    def module(self) -> nn.Module:
        """The plain network."""
        return self.__dict__["_net"]  # type: ignore[no-any-return]


def _group_of(params: list[nn.Parameter], owner: dict[int, str]) -> str | None:
    """The one group all `params` belong to, or None when they span several (or none)."""
    groups = {owner.get(id(p)) for p in params}
    return groups.pop() if len(groups) == 1 else None


def _slots(module: nn.Module, owner: dict[int, str]) -> Iterator[tuple[nn.Module, str, nn.Module]]:
    """(parent, attribute, network) for the largest submodules of `module` whose parameters all
    belong to one group: a child of several groups (a ModuleDict of G and D) is searched."""
    for name, child in module._modules.items():
        params = list(child.parameters()) if child is not None else []
        if not params:
            continue
        if _group_of(params, owner) is not None:
            yield module, name, child  # type: ignore[misc]
        else:
            yield from _slots(child, owner)  # type: ignore[arg-type]


def _ddp(net: nn.Module, device: torch.device) -> DistributedDataParallel:
    """DDP over `net` (its parameters broadcast from rank 0 once, here); buffers (running
    statistics, pools) stay each rank's own: rebroadcasting them at every call would also
    change, in place, tensors that autograd saved in an earlier call of the same phase."""
    with warnings.catch_warnings():  # torch 2.13 deprecates the flag, but keeps it for this use
        warnings.simplefilter("ignore", FutureWarning)
        return DistributedDataParallel(
            _Dispatch(net), device_ids=[device.index] if device.type == "cuda" else None,
            broadcast_buffers=False)


def wrap_networks(variant: Variant, groups: dict[str, list[nn.Parameter]],
                  device: torch.device) -> list[SyncedNet]:
    """Give every trained network of `variant` its own DDP wrapper and stand-in (aliases, such as
    CycleGAN's generator = g_ab, share one), while `exports()` still gives the plain networks;
    refuse a variant with trained parameters that no network of its own holds (their gradients
    would not be averaged)."""
    exports = variant.exports
    variant.__dict__["exports"] = lambda: {k: v.module if isinstance(v, SyncedNet) else v
                                           for k, v in exports().items()}
    owner = {id(p): g for g, ps in groups.items() for p in ps}
    synced: dict[int, SyncedNet] = {}
    for parent, name, net in list(_slots(variant, owner)):
        if id(net) not in synced:
            synced[id(net)] = SyncedNet(net, _ddp(net, device))
        parent.__dict__[name] = synced[id(net)]
    covered = {id(p) for s in synced.values() for p in s.module.parameters()}
    loose = [g for g, ps in groups.items() if any(id(p) not in covered for p in ps)]
    if loose:
        raise ConfigError(f"{type(variant).__name__} trains parameters of group(s) "
                          f"{', '.join(loose)} outside a network of its own, so several "
                          "processes cannot average their gradients; train it in one process")
    return list(synced.values())


NoiseFn = Callable[..., dict[str, Tensor]]


def shard_noise(variant: Variant, rank: int, size: int) -> None:
    """Make the variant's training noise that of the global batch: `noise(n)` draws the noise of
    all `size * n` rows (every rank draws the same: same seed, same draws) and returns this
    rank's `n`, so the noise of a step does not depend on the number of processes. Draws from
    an explicit generator (previews, sampling) are left alone."""
    draw: NoiseFn = variant.noise

    def noise(n: int, gen: torch.Generator | None = None) -> dict[str, Tensor]:
        if gen is not None:
            return draw(n, gen)
        return {k: v[rank * n:(rank + 1) * n] for k, v in draw(n * size).items()}
    variant.__dict__["noise"] = noise
