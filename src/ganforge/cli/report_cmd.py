"""`ganforge report RUN [--out FILE]`: one self-contained HTML page of a run."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    """Register the `report` subcommand."""
    p = sub.add_parser("report", help="write a run's self-contained HTML report")
    p.add_argument("run", metavar="RUN", help="run folder written by ganforge train")
    p.add_argument("--out", default=None, help="output file (default: RUN/report.html)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the report and say where."""
    from ganforge.report import write_report

    print(f"Wrote {write_report(args.run, args.out)}")
    return 0
