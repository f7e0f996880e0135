"""`ganforge sample RUN --n 64 --out grid.png`: images (or a latent walk) from a trained run."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np

from ganforge.errors import ConfigError


def add_parser(sub: Any) -> None:
    """Register the `sample` subcommand."""
    p = sub.add_parser("sample", help="draw samples from a trained run")
    p.add_argument("run", metavar="RUN", help="run folder written by ganforge train")
    p.add_argument("--n", type=int, default=64, help="number of samples (default: 64)")
    p.add_argument("--out", default="samples.png", help="output file (default: samples.png)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    p.add_argument("--format", choices=("png", "npy"), default=None,
                   help="png grid or raw npy array (default: from --out's extension)")
    p.add_argument("--interpolate", action="store_true",
                   help="a latent walk: rows of spherical interpolations between random z")
    p.add_argument("--steps", type=int, default=8, help="columns of a latent walk (default: 8)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or mps (default: cpu)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the requested samples."""
    from ganforge.api import Run

    if args.n <= 0 or args.steps <= 1:
        raise ConfigError("--n must be positive and --steps at least 2")
    out = Path(args.out)
    fmt = args.format or ("npy" if out.suffix == ".npy" else "png")
    loaded = Run(args.run, device=args.device)
    if args.interpolate:
        rows = max(1, args.n // args.steps)
        images, nrow = loaded.interpolate(rows, args.steps, args.seed), args.steps
    else:
        images, nrow = loaded.sample(args.n, args.seed), max(1, int(math.sqrt(args.n)))
    if fmt == "npy":
        out.parent.mkdir(parents=True, exist_ok=True)
        np.save(out, images.numpy())
    elif loaded.spec.kind != "image":
        raise ConfigError(f"run '{args.run}' generates points, not images; use --format npy")
    else:
        loaded.save_grid(images, out, nrow)
    print(f"Wrote {len(images)} samples to {out}")
    return 0
