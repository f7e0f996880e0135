"""How fast a run computes, not what: torch's thread count (--threads), the channels-last memory
format of conv networks (--channels-last) and torch.compile (--compile). Fused optimisers are in
train/optim.py."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch import nn

from ganforge.train.checkpoint import one_line

CONVS = (nn.Conv2d, nn.ConvTranspose2d)


# ----- threads --------------------------------------------------------------------------------
def physical_cores(cpus: Iterable[int], siblings: dict[int, str]) -> int:
    """How many physical cores `cpus` span: CPUs sharing a core (their `thread_siblings_list`,
    e.g. "0,32") count once; a CPU with no entry counts alone."""
    return max(1, len({siblings.get(c, f"cpu{c}") for c in cpus}))


def machine_threads() -> int:
    """One thread per physical core this process may run on (its CPU affinity, so a container
    or `taskset` limit is respected): hyper-threads share a core's arithmetic units."""
    if hasattr(os, "sched_getaffinity"):
        cpus = set(os.sched_getaffinity(0))
    else:  # macOS, Windows
        cpus = set(range(os.cpu_count() or 1))
    siblings = {}
    for c in cpus:
        path = Path(f"/sys/devices/system/cpu/cpu{c}/topology/thread_siblings_list")
        try:
            siblings[c] = path.read_text().strip()
        except OSError:
            pass
    return physical_cores(cpus, siblings)


def thread_count(requested: int, environ: dict[str, str]) -> int:
    """--threads N as given; 0 (auto): $OMP_NUM_THREADS when it holds a positive number (the
    tests set 1), else one per physical core."""
    if requested > 0:
        return requested
    env = environ.get("OMP_NUM_THREADS", "").strip()
    return int(env) if env.isdigit() and int(env) > 0 else machine_threads()


def set_threads(requested: int) -> int:
    """Set torch's intra-op thread count from --threads; returns it."""
    n = thread_count(requested, dict(os.environ))
    torch.set_num_threads(n)
    return n


# ----- device-resident data -------------------------------------------------------------------
#: The share of a GPU's free memory an in-memory dataset may take to live there as uint8.
DEVICE_DATA_SHARE = 0.25


def keep_on_device(data: object, device: torch.device) -> None:
    """Move an in-memory dataset's uint8 images (and labels) to the CUDA GPU once, when they take
    at most DEVICE_DATA_SHARE of its free memory: batches are then gathered there, with no
    host-to-device copy per step. Other data and devices are left as they are."""
    images = getattr(data, "data", None)
    if device.type != "cuda" or not isinstance(images, torch.Tensor) or images.dtype != torch.uint8:
        return
    free, _ = torch.cuda.mem_get_info(device)
    if images.nbytes > DEVICE_DATA_SHARE * free:
        return
    data.data = images.to(device)  # type: ignore[attr-defined]
    labels = getattr(data, "labels", None)
    if isinstance(labels, torch.Tensor):
        data.labels = labels.to(device)  # type: ignore[attr-defined]


# ----- channels last --------------------------------------------------------------------------
def has_convs(net: nn.Module) -> bool:
    """The network has 2-D (transposed) convolutions."""
    return any(isinstance(m, CONVS) for m in net.modules())


def wants_channels_last(mode: str, device: torch.device, net: nn.Module) -> bool:
    """--channels-last on/off as asked; auto: on for conv networks on a CPU or CUDA GPU, whose
    convolution libraries (oneDNN, cuDNN) compute in NHWC and convert NCHW tensors each call,
    unless they hold InstanceNorm, which torch computes on an NCHW copy (instance_norm calls
    .contiguous()): a conversion each way around every such layer."""
    if mode != "auto":
        return mode == "on"
    return (device.type in ("cpu", "cuda") and has_convs(net)
            and not any(isinstance(m, nn.InstanceNorm2d) for m in net.modules()))


def to_channels_last(net: nn.Module) -> None:
    """Store every 4-D parameter and buffer of `net` channels-last, in place (the parameter
    objects stay the same, so optimisers built on them need no change)."""
    net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]


# ----- torch.compile --------------------------------------------------------------------------
def compile_problem() -> str | None:
    """Why torch.compile does not work on this machine (no C compiler, an unsupported Python),
    found by compiling a two-op function; None when it works."""
    try:
        fn = torch.compile(lambda x: x * 2 + 1)
        if not torch.equal(fn(torch.ones(3)), torch.full((3,), 3.0)):
            return "a compiled test function computed a wrong value"
    except Exception as exc:  # noqa: BLE001 - any failure of the compiler stack means "eager"
        return one_line(exc, 120)
    return None


def compile_networks(variant: nn.Module, say: Callable[[str], None]) -> bool:
    """torch.compile each network of `variant` (each child module with parameters: its forward
    and `forward_features`), in place, so state dicts keep their keys; where this machine cannot
    compile, say so in one line and stay eager. Returns whether it compiled."""
    problem = compile_problem()
    if problem is not None:
        say(f"--compile: torch.compile does not work here ({problem}); training eagerly")
        return False
    import torch._dynamo

    torch._dynamo.config.suppress_errors = True  # a graph that fails to compile runs eagerly
    for net in variant.children():
        if next(net.parameters(), None) is None:
            continue
        net.compile()
        features = getattr(net, "forward_features", None)
        if callable(features):
            setattr(net, "forward_features", torch.compile(features))  # noqa: B010
    return True
