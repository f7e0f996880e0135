"""One of the two processes tests/test_distributed.py starts with torchrun: it joins the process
group as `ganforge train` does (world.joined, from torchrun's environment), runs the jobs named in
the JSON file given as its argument (`python -m ganforge …` command lines among them) and writes
what it saw to OUT/rank<R>.pt. Rank 1 records every file it writes, creates, renames or removes
under the watched folder: it should touch none."""

from __future__ import annotations

import itertools
import json
import os
import runpy
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ganforge.api import load_run, make_config
from ganforge.train import session
from ganforge.train.checkpoint import load_checkpoint
from ganforge.train.distributed import World, joined, trainer_class
from ganforge.train.distributed.state import gather, rank_state
from ganforge.train.distributed.sync_bn import CpuSyncBatchNorm
from ganforge.train.rng import seed_everything
from ganforge.train.run import RunDir
from ganforge.train.trainer import Trainer
from ganforge.variants import build_variant

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


_DATA: dict[tuple[Any, ...], Any] = {}


def trained(model: str, opts: dict[str, Any], steps: int, sgd: bool = False,
            alone: bool = False) -> Trainer:
    """The trainer of `model` after `steps` training steps on the process group's ranks (or in
    this process `alone`, on the whole global batch), without a run folder: fit() is not called,
    nothing is written. `sgd`: plain SGD steps (at --lr-d / --lr-g) in place of the configured
    optimiser."""
    cfg = make_config(model, **opts)
    key = (cfg.data, cfg.image_size, cfg.channels, cfg.direction, cfg.seed)
    data = _DATA[key] = _DATA.get(key) or session.load_data(cfg)
    seed_everything(cfg.seed)
    variant = build_variant(cfg, session.spec_of(data))
    run = RunDir(Path("never-written"))
    cpu = torch.device("cpu")
    kind = Trainer if alone else trainer_class(World.current())
    trainer = kind(cfg, variant, data, run, cpu, quiet=True,
                   held_out=session.held_out_batch(cfg, variant, cpu))
    if sgd:
        trainer.opts = {k: torch.optim.SGD(ps, lr=trainer.base_lrs[k])
                        for k, ps in trainer.groups.items()}
    for batch in itertools.islice(trainer.loader.epoch(0), steps):
        trainer.variant.step = trainer.step  # what fit() does around train_step
        trainer.train_step(batch)
        trainer.step += 1
    return trainer


def one_step(model: str, opts: dict[str, Any], alone: bool) -> dict[str, Tensor]:
    """Weights and gradients after the first training step, by SGD (the gradients of each
    group's last phase, as the trainer leaves them)."""
    out = {}
    for name, p in trained(model, opts, 1, sgd=True, alone=alone).variant.named_parameters():
        out[f"w.{name}"] = p.detach().clone()
        if p.grad is not None:
            out[f"g.{name}"] = p.grad.detach().clone()
    return out


def reference(model: str, opts: dict[str, Any], steps: int) -> dict[str, Any]:
    """What a checkpoint after `steps` uninterrupted steps would hold: the variant, the
    optimisers, and this rank's own state (generators, buffers)."""
    trainer = trained(model, opts, steps)
    return {"variant": trainer.variant.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in trainer.opts.items()},
            "rank": rank_state(trainer.variant)}


def in_step(model: str, opts: dict[str, Any], steps: int, world: World) -> dict[str, Any]:
    """Train `steps` steps; the ranks' weights are compared (a RunError when they differ)."""
    trainer = trained(model, opts, steps)
    gather(trainer.variant, world)
    finite = all(bool(torch.isfinite(p).all()) for p in trainer.variant.parameters())
    return {"finite": finite, "step": trainer.step, "d_loss": trainer.last.get("D")}


def sync_bn_layer(rank: int, size: int) -> dict[str, Tensor]:
    """CpuSyncBatchNorm over every rank's share against BatchNorm2d over the whole batch: the
    output, the input and parameter gradients, and the running statistics (max differences)."""
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(4 * size, 3, 5, 5, generator=gen) * 3 + 2
    w = torch.randn(4 * size, 3, 5, 5, generator=gen)
    ref, bn = torch.nn.BatchNorm2d(3), CpuSyncBatchNorm(3)
    for m in (ref, bn):
        torch.nn.init.uniform_(m.weight, generator=torch.Generator().manual_seed(1))
    xr, xs = x.clone().requires_grad_(True), x[rank * 4:(rank + 1) * 4].clone().requires_grad_(True)
    expected = ref(xr)
    (expected * w).sum().backward()
    out = bn(xs)
    (out * w[rank * 4:(rank + 1) * 4]).sum().backward()
    diff = {"out": (out - expected[rank * 4:(rank + 1) * 4]).abs().max(),
            "x_grad": (xs.grad - xr.grad[rank * 4:(rank + 1) * 4]).abs().max(),
            "running_mean": (bn.running_mean - ref.running_mean).abs().max(),
            "running_var": (bn.running_var - ref.running_var).abs().max()}
    torch.distributed.all_reduce(bn.weight.grad)  # what DDP does with each rank's share
    torch.distributed.all_reduce(bn.bias.grad)
    diff["weight_grad"] = (bn.weight.grad - ref.weight.grad).abs().max()
    diff["bias_grad"] = (bn.bias.grad - ref.bias.grad).abs().max()
    return {k: v.detach() for k, v in diff.items()}


def command(argv: list[str]) -> int:
    """`python -m ganforge ARGV` in this process; its exit status."""
    sys.argv = ["ganforge", *argv]
    try:
        runpy.run_module("ganforge", run_name="__main__", alter_sys=True)
    except SystemExit as done:
        return int(done.code or 0)
    return 0


def snapshot(run: Path) -> dict[str, Any]:
    """The run folder as it is now: its files, log, checkpoint and 4 samples from it."""
    return {"files": sorted(str(p.relative_to(run)) for p in run.rglob("*")),
            "log": (run / "log.jsonl").read_text(),
            "checkpoint": load_checkpoint(run / "checkpoints" / "last.pt"),
            "sample": load_run(run).sample(4)}


def run_job(job: dict[str, Any], world: World) -> Any:
    """One job of the spec file."""
    kind = job["kind"]
    if kind == "cli":
        return command(job["argv"])
    if kind == "snapshot":
        return snapshot(Path(job["run"])) if world.main else None
    if kind == "one_step":
        return one_step(job["model"], job["opts"], job["alone"])
    if kind == "reference":
        return reference(job["model"], job["opts"], job["steps"])
    if kind == "in_step":
        return in_step(job["model"], job["opts"], job["steps"], world)
    if kind == "sync_bn_layer":
        return sync_bn_layer(world.rank, world.size)
    raise ValueError(f"unknown job kind {kind}")


def watch_writes(folder: str, seen: list[str]) -> None:
    """Record in `seen` every write, creation, rename or removal of a path under `folder`."""
    def written(path: object) -> bool:
        return isinstance(path, (str, bytes, os.PathLike)) and os.fsdecode(path).startswith(folder)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open" and written(args[0]):
            mode, flags = args[1] or "", args[2] or 0
            if any(c in str(mode) for c in "wax+") or flags & WRITE_FLAGS:
                seen.append(f"open {args[0]} {mode}")
        elif event in ("os.mkdir", "os.remove", "os.rename", "os.replace", "os.truncate",
                       "tempfile.mkstemp") and written(args[0]):
            seen.append(f"{event} {args[0]}")
    sys.addaudithook(hook)


def main(spec_file: str) -> None:
    spec = json.loads(Path(spec_file).read_text())
    rank = int(os.environ["RANK"])
    seen: list[str] = []
    if rank == 1:
        watch_writes(spec["watch"], seen)
    with joined() as world:
        results = {}
        for job in spec["jobs"]:
            began = time.process_time()
            results[job["name"]] = run_job(job, world)
            print(f"rank {rank}: {job['name']} {time.process_time() - began:.1f} s",
                  file=sys.stderr)
    torch.save({"results": results, "writes": seen}, Path(spec["out"]) / f"rank{rank}.pt")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv[1])
