"""`domains:PATH`: your own single-label multi-domain images, one subfolder per domain (the RaFD
layout of StarGAN's code), for StarGAN with a cross-entropy domain loss.

`PATH/train/<domain>/` and `PATH/test/<domain>/` when both exist; else `PATH/<domain>/`, whose
last 10 % of files per domain (sorted by name, at least one of two or more) are held out as
`test`. Images are squared (centre crop) and resized to `--image-size` (default 128).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ganforge.data.multidomain import MultiDomainImages
from ganforge.data.translation_load import load_domain
from ganforge.errors import ConfigError, DataError

PREFIX = "domains:"
SPLITS = ("train", "test")
HELD_OUT = 0.1
DEFAULT_SIZE = 128


def domain_folders(root: Path) -> list[Path]:
    """The domain subfolders of `root`, sorted; a missing root or one with fewer than two
    domains is a one-line DataError."""
    if not root.is_dir():
        raise DataError(f"{PREFIX}{root}: folder does not exist; give a folder with one "
                        "subfolder of images per domain")
    subs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(subs) < 2:
        raise DataError(f"{PREFIX}{root} has {len(subs)} domain subfolder(s); StarGAN needs at "
                        "least two (one subfolder of images per domain)")
    return subs


def held_out(images: torch.Tensor, split: str) -> torch.Tensor:
    """One domain's images of `split` when the split is by rule: the last 10 % are `test`."""
    n = len(images)
    n_test = max(1, int(round(n * HELD_OUT))) if n > 1 else 0
    return images[: n - n_test] if split == "train" else images[n - n_test :]


def load_domains(path: str | os.PathLike[str], split: str = "train",
                 image_size: int | None = None, channels: int | None = None,
                 flip: bool = True) -> MultiDomainImages:
    """Every domain subfolder's images of `split` with their domain index as label."""
    if split not in SPLITS:
        raise ConfigError(f"unknown split '{split}' for {PREFIX}PATH; valid splits: "
                          f"{', '.join(SPLITS)}")
    root = Path(path).expanduser()
    by_folder = all((root / s).is_dir() for s in SPLITS)
    subs = domain_folders(root / "train" if by_folder else root)
    size, ch = DEFAULT_SIZE if image_size is None else int(image_size), channels or 3
    parts, labels, skipped = [], [], 0
    for k, sub in enumerate(subs):
        folder = root / split / sub.name if by_folder else sub
        images, bad = load_domain(folder, size, ch)  # an empty domain folder is a DataError
        images = images if by_folder else held_out(images, split)
        parts.append(images)
        labels.append(torch.full((len(images),), k, dtype=torch.int64))
        skipped += bad
    rule = (f"{split}: {root / split}" if by_folder else
            f"{split}: per domain, test = the last {HELD_OUT:.0%} of the files sorted by name")
    return MultiDomainImages(f"{PREFIX}{path}", torch.cat(parts), labels=torch.cat(labels),
                             domains=tuple(s.name for s in subs), flip=flip, split_rule=rule,
                             skipped=skipped)
