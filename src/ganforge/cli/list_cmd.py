"""`ganforge list`: models, losses, variants and datasets."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    """Register the `list` subcommand."""
    p = sub.add_parser("list", help="list models, losses and datasets")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the registries."""
    from ganforge.data import describe_datasets
    from ganforge.losses import LOSSES
    from ganforge.presets import PRESETS

    sections = [
        ("models", [(n, PRESETS.help(n)) for n in PRESETS.names()]),
        ("losses", [(n, LOSSES.help(n)) for n in LOSSES.names()]),
        ("datasets", describe_datasets()),
    ]
    for title, rows in sections:
        print(f"{title}:")
        width = max(len(n) for n, _ in rows)
        for name, text in rows:
            print(f"  {name:<{width}}  {text}")
    return 0
