"""Train-step throughput (images/s) of each preset at batch 64 on MNIST, seconds per MNIST
epoch and peak memory, on the current device.

    python benchmarks/throughput.py [--steps 60] [--device auto] [--full-epoch]

Throughput is timed over `--steps` training steps after 5 warm-up steps; a step is one D update
(plus a G update every n_critic steps), so images/s = batch size * steps / seconds. Seconds per
epoch are extrapolated from it (937 batches of 64), except with --full-epoch, which times one
real epoch of DCGAN. Peak memory is the process's maximum resident set size on CPU (it includes
the ~190 MB MNIST copy and torch itself) and torch.cuda.max_memory_allocated on a GPU.
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from common import save
from ganforge.api import make_config
from ganforge.configure import preset_values
from ganforge.data import BatchLoader
from ganforge.presets import PRESETS
from ganforge.train.run import RunDir
from ganforge.train.session import load_data, resolve_device, spec_of
from ganforge.train.trainer import Trainer
from ganforge.variants import VARIANTS, build_variant


def time_preset(model: str, steps: int, device: torch.device, data, tmp: str) -> dict:  # noqa: ANN001
    """Images per second of `model`'s training step at batch 64."""
    cfg = make_config(model, data="mnist", batch_size=64, steps=steps + 5, device=str(device))
    torch.manual_seed(0)
    variant = build_variant(cfg, spec_of(data)).to(device)
    trainer = Trainer(cfg, variant, data, RunDir(__import__("pathlib").Path(tmp)), device,
                      quiet=True)
    batches = trainer.loader.epoch(0)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for _ in range(5):
        trainer.train_step(next(batches))
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step(next(batches))
    _sync(device)
    seconds = time.perf_counter() - start
    ips = 64 * steps / seconds
    n_batches = len(BatchLoader(data, 64, seed=0))
    peak = (torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {"model": model, "images_per_s": ips, "ms_per_step": 1000 * seconds / steps,
            "epoch_s_extrapolated": n_batches * seconds / steps, "peak_mem_mb": peak}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    """Time every preset and save the table."""
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", default="throughput")
    args = parser.parse_args()
    device = resolve_device(args.device)
    data = load_data(make_config("dcgan", data="mnist"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in PRESETS.names():
            if hasattr(VARIANTS.get(preset_values(model)["variant"]), "translate"):
                continue  # translation models: benchmarks/translation_throughput.py
            rows.append(time_preset(model, args.steps, device, data, tmp))
            print(rows[-1], flush=True)
    save(args.out, rows, ["model", "images_per_s", "ms_per_step", "epoch_s_extrapolated",
                          "peak_mem_mb"],
         f"Training throughput on MNIST 28x28, batch 64 ({device.type})",
         f"{args.steps} timed steps after 5 warm-up steps, default preset networks "
         "(width 64). Peak memory: max RSS of the process on CPU (cumulative over the presets "
         "timed so far, MNIST in memory included); torch.cuda.max_memory_allocated on GPU.")


if __name__ == "__main__":
    main()
