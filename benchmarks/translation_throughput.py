"""Train-step throughput (images/s) and peak memory of pix2pix and cyclegan at 128 and 256 px,
on their datasets (facades, horse2zebra), with the presets' networks (width 64, batch 1).

    python benchmarks/translation_throughput.py [--steps 10] [--sizes 128,256] [--device auto]

Each (model, size) runs in a fresh process, so its peak resident memory (max RSS: torch, the
dataset held as uint8 at the load size, networks, optimiser state, activations) is its own.
A step is what the trainer does per batch (pix2pix: G then D; cyclegan: both G, then both D),
timed over `--steps` steps after 2 warm-up steps; images/s = batch size * steps / seconds.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from common import save

DATA = {"pix2pix": {"data": "facades", "direction": "BtoA"}, "cyclegan": {"data": "horse2zebra"}}


def time_one(model: str, size: int, steps: int, device_name: str) -> dict[str, float | str]:
    """Images per second of one training configuration (run in its own process)."""
    from ganforge.api import make_config
    from ganforge.train.run import RunDir
    from ganforge.train.session import held_out_batch, load_data, resolve_device
    from ganforge.train.trainer import Trainer
    from ganforge.variants import build_variant

    device = resolve_device(device_name)
    cfg = make_config(model, image_size=size, steps=steps + 2, device=str(device),
                      **DATA[model])
    data = load_data(cfg)
    torch.manual_seed(0)
    variant = build_variant(cfg, data.spec()).to(device)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, variant, data, RunDir(Path(tmp)), device, quiet=True,
                          held_out=held_out_batch(cfg, variant, device))
        batches = trainer.loader.epoch(0)
        for _ in range(2):
            trainer.train_step(next(batches))
        start = time.perf_counter()
        for _ in range(steps):
            trainer.train_step(next(batches))
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    n = cfg.batch_size * steps
    return {"model": model, "image_size": size, "batch": cfg.batch_size,
            "images_per_s": n / seconds, "s_per_step": seconds / steps,
            "epoch_min": len(data) * seconds / steps / cfg.batch_size / 60,
            "params_m": sum(p.numel() for p in variant.parameters()) / 1e6,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    """Time every (model, size) in its own process and save the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--sizes", default="128,256")
    parser.add_argument("--models", default="pix2pix,cyclegan")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(time_one(args.one[0], int(args.one[1]), args.steps, args.device)))
        return
    rows = []
    for model in args.models.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            out = subprocess.run([sys.executable, __file__, "--one", model, str(size),
                                  "--steps", str(args.steps), "--device", args.device],
                                 capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    save("translation_throughput", rows,
         ["model", "image_size", "batch", "images_per_s", "s_per_step", "epoch_min", "params_m",
          "peak_rss_mb"],
         "Translation training throughput (presets' networks, batch 1)",
         f"{args.steps} timed steps after 2 warm-up steps, each configuration in its own process;"
         " epoch_min = one pass over the training set (facades 400 pairs; horse2zebra "
         "max(trainA, trainB) = 400 with the shared copy, 1334 in the full set). Peak memory is "
         "the process's max RSS (dataset at the load size included).")


if __name__ == "__main__":
    main()
