"""Peak memory of a short training run on prepared data against the same data in memory, for
synthetic datasets of 0.25 to 2 GB: the in-memory run grows with the data, the prepared one
stays flat.

    python benchmarks/memory.py [--sizes 0.25 0.5 1 2] [--steps 5] [--work DIR]

The data are seeded random 64x64 RGB images (12,288 bytes each), made a chunk at a time, so the
prepared and the in-memory copy hold the same bytes. Each figure comes from a fresh child process
(this script with --child), which reports its own peak resident set size (VmHWM of
/proc/self/status; getrusage's ru_maxrss would carry over the parent's peak through exec):
`prepare` writes the cache (`data.prepare.write_split`), `prepared` trains on it (`--data
prepared:DIR`), `in memory` builds the same images as one uint8 tensor (what `load_dataset`
holds) and trains on it, `floor` trains on 64 images (torch and the model alone). Training is the
tiny dcgan (width 8, batch 64, one thread) for --steps steps; both runs must end with bitwise the
same weights, which the table checks. The prepared run reads each batch's rows from the file
(`data/rows.py`): the file's pages stay in the kernel's page cache, outside the process.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from common import save

SIZE, CHANNELS, SEED = 64, 3, 0
IMAGE_BYTES = CHANNELS * SIZE * SIZE
CHUNK = 4096  # images generated at a time
TRAIN = {"width": 8, "latent_dim": 16, "batch_size": 64, "grid_size": 16, "log_every": 1000,
         "monitor_every": 0, "checkpoint_every": 10**6, "image_size": SIZE, "seed": SEED}


def chunks(n: int) -> Iterator[np.ndarray]:
    """The synthetic images, (k, 3, 64, 64) uint8, each chunk from its own seeded generator."""
    for j, start in enumerate(range(0, n, CHUNK)):
        gen = torch.Generator().manual_seed(SEED * 100_003 + j)
        k = min(CHUNK, n - start)
        yield torch.randint(0, 256, (k, CHANNELS, SIZE, SIZE), generator=gen,
                            dtype=torch.uint8).numpy()


def in_memory(n: int) -> object:
    """The synthetic images as one in-memory dataset."""
    from ganforge.data import InMemoryDataset

    data = torch.empty((n, CHANNELS, SIZE, SIZE), dtype=torch.uint8)
    start = 0
    for part in chunks(n):
        data[start : start + len(part)] = torch.from_numpy(part)
        start += len(part)
    return InMemoryDataset("synthetic", data)


def write_cache(n: int, root: Path) -> None:
    """Prepare the synthetic images into root/train (generated data: no source to check)."""
    from ganforge.data.prepare import write_split
    from ganforge.data.sources import Source

    source = Source("synthetic", "train", (CHANNELS, SIZE, SIZE), n, None, lambda: chunks(n))
    write_split(source, root / "train", progress=False)


def train(data: str, out: Path, steps: int, dataset: object | None) -> str:
    """Train the tiny dcgan; return the SHA256 of its final weights."""
    from ganforge.api import make_config
    from ganforge.train import session
    from ganforge.train.checkpoint import load_checkpoint

    if dataset is not None:  # the in-memory runs: the registry has no synthetic set
        session.load_data = lambda cfg, split="train": dataset  # type: ignore[assignment]
    session.start(make_config("dcgan", data=data, steps=steps, out=str(out), **TRAIN), quiet=True)
    weights = load_checkpoint(out / "checkpoints" / "last.pt")["variant"]
    digest = hashlib.sha256()
    for key in sorted(weights):
        digest.update(key.encode() + weights[key].numpy().tobytes())
    return digest.hexdigest()


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB (VmHWM; ru_maxrss where there is no /proc)."""
    status = Path("/proc/self/status")
    for line in status.read_text().splitlines() if status.is_file() else []:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, n: int, work: Path, steps: int) -> dict[str, object]:
    """One measurement, in this (fresh) process."""
    torch.set_num_threads(1)
    start, digest = time.perf_counter(), ""
    if mode == "prepare":
        write_cache(n, work / "cache")
    elif mode == "prepared":
        digest = train(f"prepared:{work / 'cache'}", work / "run-prepared", steps, None)
    else:  # "in memory" and "floor"
        digest = train("synthetic", work / f"run-{mode}", steps, in_memory(n))
    return {"peak_rss_mb": peak_rss_mb(), "seconds": time.perf_counter() - start,
            "weights": digest}


def measure(mode: str, n: int, work: Path, steps: int) -> dict[str, object]:
    """Run `child` in a fresh process and return what it reports."""
    cmd = [sys.executable, __file__, "--child", mode, "--n", str(n), "--work", str(work),
           "--steps", str(steps)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{mode} child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def row(gb: float, work: Path, steps: int) -> dict[str, object]:
    """Prepare, train on prepared data, train in memory, for a dataset of `gb` GB."""
    n = max(TRAIN["batch_size"], int(gb * 1e9) // IMAGE_BYTES)
    work = work / f"{gb}gb"
    prep = measure("prepare", n, work, steps)
    on_disk = measure("prepared", n, work, steps)
    shutil.rmtree(work / "cache")
    memory = measure("in memory", n, work, steps)
    out = {"dataset_gb": round(n * IMAGE_BYTES / 1e9, 3), "images": n,
           "prepare_peak_mb": prep["peak_rss_mb"], "prepare_s": prep["seconds"],
           "prepared_peak_mb": on_disk["peak_rss_mb"], "prepared_s": on_disk["seconds"],
           "in_memory_peak_mb": memory["peak_rss_mb"], "in_memory_s": memory["seconds"],
           "same_weights": on_disk["weights"] == memory["weights"]}
    print(json.dumps(out), flush=True)
    return out


def main() -> None:
    """Measure every size and save results/memory.{json,md}."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=float, nargs="+", default=[0.25, 0.5, 1.0, 2.0], metavar="GB")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--work", help="scratch folder (default: a temporary one)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.n, Path(args.work), args.steps)))
        return
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        floor = measure("floor", TRAIN["batch_size"], Path(tmp) / "floor", args.steps)
        rows = [row(gb, Path(tmp), args.steps) for gb in args.sizes]
    columns = ["dataset_gb", "images", "in_memory_peak_mb", "prepared_peak_mb",
               "prepare_peak_mb", "prepare_s", "same_weights"]
    notes = (f"Peak RSS in MB of a {args.steps}-step run of the tiny dcgan (width 8, batch 64, "
             f"64x64 RGB, one thread); torch and the model alone (64 images): "
             f"{floor['peak_rss_mb']:.0f} MB. `prepare_peak_mb`, `prepare_s`: peak RSS and "
             "seconds of writing the cache. `same_weights`: the two runs end bitwise equal. "
             "Command: `python benchmarks/memory.py`.")
    save("memory", rows, columns, "Peak memory: prepared data against in-memory data", notes)


if __name__ == "__main__":
    main()
