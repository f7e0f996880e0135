"""`ganforge train MODEL [--data NAME] …` and `ganforge train --resume RUN_DIR`."""

from __future__ import annotations

import argparse
from typing import Any

from ganforge.cli.parser import add_config_flags
from ganforge.config import TrainConfig, load_yaml
from ganforge.configure import model_config, normalise, preset_values
from ganforge.errors import ConfigError
from ganforge.presets import PRESETS

EPILOG = """examples:
  ganforge train dcgan --data mnist --epochs 1
  ganforge train wgan-gp --data ring8 --steps 3000
  ganforge train gan --config my.yaml          (keys are the flags' names)
  ganforge train --resume runs/dcgan-mnist-20261122-101500 --epochs 10"""


def model_named(argv: list[str]) -> str | None:
    """The preset named on a `train` command line, if any (its variant's own flags are then
    the only ones added, and `--help` lists them)."""
    if "train" not in argv:
        return None
    return next((a for a in argv[argv.index("train") + 1:] if a in PRESETS), None)


def add_parser(sub: Any, argv: list[str] | None = None) -> None:
    """Register the `train` subcommand (with the named model's own options, else everyone's)."""
    p = sub.add_parser("train", help="train a GAN and write a run folder", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", nargs="?", help=f"model preset: {', '.join(PRESETS.names())}")
    p.add_argument("--config", help="YAML file of options (keys are the flags' names)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its last checkpoint")
    model = model_named(argv or [])
    add_config_flags(p, [preset_values(model)["variant"]] if model else None)
    p.set_defaults(func=run)


def build_config(args: argparse.Namespace) -> tuple[TrainConfig, dict[str, Any]]:
    """Defaults < preset < config file < flags. Returns the config and the explicit options."""
    explicit = {k: v for k, v in vars(args).items()
                if k not in ("model", "config", "resume", "func", "command")}
    file_values = load_yaml(args.config) if args.config else {}
    model = args.model or file_values.pop("model", None)
    if model is None:
        raise ConfigError(f"name a model to train; choose from: {', '.join(PRESETS.names())}")
    where = f"config file '{args.config}'" if args.config else "the command line"
    options = {**file_values, **normalise(explicit, "the command line")}
    return model_config(model, options, where), {**file_values, **explicit}


def run(args: argparse.Namespace) -> int:
    """Start or resume training; exit status 0 when it completes, 1 when a failure stopped it."""
    from ganforge.train.session import resume, start

    if args.resume:
        if args.model or args.config:
            raise ConfigError("--resume continues a run with its own config; drop the model "
                              "name and --config")
        overrides = {k: v for k, v in vars(args).items()
                     if k not in ("model", "config", "resume", "func", "command")}
        result = resume(args.resume, overrides)
    else:
        cfg, _ = build_config(args)
        result = start(cfg)
    return {"complete": 0, "interrupted": 130, "failed": 1}[result.status]
