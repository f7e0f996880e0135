"""`ganforge compare RUN1 RUN2 … [--out DIR]`: loss curves overlaid, differing options and
latest evaluations, as compare.png, compare.md and compare.html."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    """Register the `compare` subcommand."""
    p = sub.add_parser("compare", help="overlay the curves and options of several runs")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders written by ganforge train")
    p.add_argument("--out", default="compare",
                   help="folder for compare.png/.md/.html (default: compare)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the comparison and say where."""
    from ganforge.report.compare import compare

    for path in compare(args.runs, args.out):
        print(f"Wrote {path}")
    return 0
