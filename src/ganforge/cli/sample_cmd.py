"""`ganforge sample RUN --n 64 --out grid.png`: images (or a latent walk) from a trained run.

Conditional runs (cgan, acgan) draw one row per class by default (`--class all`), or only class K
with `--class K`; InfoGAN runs draw code traversals with `--traverse`. Translation runs (pix2pix,
cyclegan) draw their training figure (input | output | target) on the first `--n` test examples.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ganforge.errors import ConfigError

DEFAULT_N = 64
PER_CLASS = 10  # columns of a class grid when --n is not given
PREVIEW_N = 8  # test examples (rows) of a translation run's figure when --n is not given


def add_parser(sub: Any) -> None:
    """Register the `sample` subcommand."""
    p = sub.add_parser("sample", help="draw samples from a trained run")
    p.add_argument("run", metavar="RUN", help="run folder written by ganforge train")
    p.add_argument("--n", type=int, default=None,
                   help=f"number of samples (default: {DEFAULT_N}; a class grid: "
                        f"{PER_CLASS} per class; pix2pix/cyclegan: {PREVIEW_N} test examples)")
    p.add_argument("--out", default="samples.png", help="output file (default: samples.png)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    p.add_argument("--format", choices=("png", "npy"), default=None,
                   help="png grid or raw npy array (default: from --out's extension)")
    p.add_argument("--interpolate", action="store_true",
                   help="a latent walk: rows of spherical interpolations between random z")
    p.add_argument("--steps", type=int, default=8,
                   help="columns of a latent walk, or per code of a traversal (default: 8)")
    p.add_argument("--class", dest="label", metavar="K", default=None,
                   help="conditional runs: only class K, or 'all' for one row per class "
                        "(the default for cgan/acgan runs)")
    p.add_argument("--traverse", action="store_true",
                   help="infogan runs: one row per categorical value, columns sweeping each "
                        "continuous code from -2 to 2")
    p.add_argument("--device", default="cpu", help="cpu, cuda or mps (default: cpu)")
    p.set_defaults(func=run)


def _label(text: str | None) -> int | str | None:
    """--class K -> K, --class all -> 'all'."""
    if text is None or text == "all":
        return text
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--class must be a class index or 'all', got '{text}'") from None


def _translation_figure(loaded: Any, args: argparse.Namespace) -> tuple[Tensor, int]:
    """A translation run's training figure on its first `--n` test examples (fixed inputs: the
    same held-out batch its previews use)."""
    from ganforge.train.session import held_out_batch

    if args.interpolate or args.traverse or args.label is not None:
        raise ConfigError(f"run '{args.run}' ({loaded.config.model}) translates images, it has no "
                          "noise or classes: drop --interpolate, --class and --traverse (sample "
                          "draws its test-set figure; ganforge translate RUN --input IMAGES "
                          "translates yours)")
    cfg = dataclasses.replace(loaded.config, grid_size=args.n or PREVIEW_N)
    held_out = held_out_batch(cfg, loaded.variant, loaded.device)
    gen = torch.Generator().manual_seed(args.seed)
    figure = loaded.variant.preview(loaded.variant.preview_inputs(cfg.grid_size, gen, held_out),
                                    loaded.nets)
    return figure.images, figure.nrow


def _draw(loaded: Any, args: argparse.Namespace) -> tuple[Any, int]:
    """The images and their number per row, as the flags ask."""
    if loaded.translates:
        return _translation_figure(loaded, args)
    label = _label(args.label)
    if args.traverse:
        if label is not None or args.interpolate:
            raise ConfigError("--traverse draws its own grid; drop --class and --interpolate")
        return loaded.traverse(args.steps, args.seed)
    n = args.n or DEFAULT_N
    if args.interpolate:
        cls = label if isinstance(label, int) else None
        return loaded.interpolate(max(1, n // args.steps), args.steps, args.seed, cls), args.steps
    if label == "all" or (label is None and loaded.conditional):
        per_class = max(1, args.n // int(loaded.spec.num_classes)) if args.n else PER_CLASS
        return loaded.class_grid(per_class, args.seed)
    cls = label if isinstance(label, int) else None
    return loaded.sample(n, args.seed, cls), max(1, int(math.sqrt(n)))


def run(args: argparse.Namespace) -> int:
    """Write the requested samples."""
    from ganforge.api import Run

    if (args.n is not None and args.n <= 0) or args.steps <= 1:
        raise ConfigError("--n must be positive and --steps at least 2")
    out = Path(args.out)
    fmt = args.format or ("npy" if out.suffix == ".npy" else "png")
    loaded = Run(args.run, device=args.device)
    images, nrow = _draw(loaded, args)
    if fmt == "npy":
        out.parent.mkdir(parents=True, exist_ok=True)
        np.save(out, images.numpy())
    elif loaded.spec.kind != "image":
        raise ConfigError(f"run '{args.run}' generates points, not images; use --format npy")
    else:
        loaded.save_grid(images, out, nrow)
    if loaded.translates:
        print(f"Wrote the figure of {len(images) // nrow} test examples (a row each, {nrow} "
              f"columns as in the run's samples/) to {out}")
    else:
        print(f"Wrote {len(images)} samples to {out}")
    return 0
