"""Entry point of the `ganforge` console script."""

from __future__ import annotations

import sys

from ganforge.cli import (
    compare_cmd,
    convert_cmd,
    eval_cmd,
    list_cmd,
    prepare_cmd,
    report_cmd,
    sample_cmd,
    train_cmd,
    translate_cmd,
)
from ganforge.cli.parser import OneLineParser
from ganforge.errors import GanforgeError


def build_parser(argv: list[str] | None = None) -> OneLineParser:
    """The top-level parser with every subcommand (`argv` lets `train` add its model's own
    options)."""
    parser = OneLineParser(prog="ganforge", description="Train, sample, evaluate and explain GANs.")
    from ganforge._version import __version__

    parser.add_argument("--version", action="version", version=f"ganforge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    train_cmd.add_parser(sub, argv)
    for module in (sample_cmd, translate_cmd, list_cmd, eval_cmd, report_cmd, compare_cmd,
                   convert_cmd, prepare_cmd):
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command; user errors print one line and exit with status 2."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except GanforgeError as exc:
        print(f"ganforge: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ganforge: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
