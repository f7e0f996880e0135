"""`ganforge convert-checkpoint RUN`: convert a checkpoint of an older ganforge (trusted only)."""

from __future__ import annotations

import argparse
from typing import Any

DESCRIPTION = """Rewrite RUN/checkpoints/last.pt, written by an older ganforge (checkpoint
format 1), in the current format, which every other command reads without running code.

WARNING: format 1 can only be read with Python's full unpickler, which runs any code hidden in
the file. Run this only on a checkpoint you made yourself or otherwise trust; never on one from a
shared or downloaded run folder. The old file is kept as checkpoints/last-format1.pt."""


def add_parser(sub: Any) -> None:
    """Register the `convert-checkpoint` subcommand."""
    p = sub.add_parser("convert-checkpoint", description=DESCRIPTION,
                       help="convert an older ganforge checkpoint (only files you trust)",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", metavar="RUN", help="run folder whose checkpoint you trust")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Convert and say what was done."""
    from ganforge.train.convert import convert_run

    print(convert_run(args.run))
    return 0
