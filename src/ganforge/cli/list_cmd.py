"""`ganforge list`: models (noise-driven, then translation), losses and datasets."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    """Register the `list` subcommand."""
    p = sub.add_parser("list", help="list models, losses and datasets")
    p.set_defaults(func=run)


def _translates(preset: str) -> bool:
    """Whether the preset's variant maps images to images (pix2pix, cyclegan)."""
    from ganforge.configure import variant_of
    from ganforge.presets import PRESETS
    from ganforge.variants import VARIANTS

    return hasattr(VARIANTS.get(variant_of(PRESETS.get(preset))), "translate")


def run(args: argparse.Namespace) -> int:
    """Print the registries."""
    from ganforge.data import describe_datasets
    from ganforge.losses import LOSSES
    from ganforge.presets import PRESETS

    models = [(n, PRESETS.help(n)) for n in PRESETS.names()]
    translation = [m for m in models if _translates(m[0])]
    sections = [
        ("models (ganforge sample RUN)", [m for m in models if m not in translation]),
        ("translation models (ganforge translate RUN --input IMAGES --out DIR)", translation),
        ("losses", [(n, LOSSES.help(n)) for n in LOSSES.names()]),
        ("datasets", describe_datasets()),
    ]
    for title, rows in sections:
        print(f"{title}:")
        width = max(len(n) for n, _ in rows)
        for name, text in rows:
            print(f"  {name:<{width}}  {text}")
    return 0
