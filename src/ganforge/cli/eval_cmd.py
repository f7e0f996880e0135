"""`ganforge eval RUN --metrics fid,kid` and `ganforge eval --real DATA --fake FOLDER`; a
translation run (pix2pix, cyclegan) is scored on its own dataset's split with its own metrics."""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganforge.errors import ConfigError

if TYPE_CHECKING:
    from ganforge.train.distributed import World

EPILOG = """examples:
  ganforge eval runs/dcgan-mnist --metrics fid,kid,is,pr,dc,1nn,w1,modes --n 10000
  ganforge eval --real mnist --fake my_samples/ --features mnist-classifier --json eval.json
  ganforge eval --real photos/ --fake samples/ --inception-weights ~/pt_inception.pth
  ganforge eval runs/pix2pix-facades --n 50 --json eval.json     # translation runs
  ganforge eval runs/cyclegan-horse2zebra --metrics success,fid,cycle --split test

metrics: fid kid is ms pr dc 1nn w1 modes gan-train (see docs of ganforge.evaluation.metrics)
translation runs (ganforge.evaluation.translation), per direction: paired data: l1 psnr ssim
  sharpness; unpaired: success fid kid; both ways: cycle (default: all that apply)
features: mnist-classifier fashion-classifier zebra-classifier inception raw (default: by
  dataset)"""


def add_parser(sub: Any) -> None:
    """Register the `eval` subcommand."""
    p = sub.add_parser("eval", help="measure sample quality (FID, KID, IS, P/R, …)", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", nargs="?", metavar="RUN", help="run folder written by ganforge train")
    p.add_argument("--fake", metavar="FOLDER", help="folder of generated images (instead of RUN)")
    p.add_argument("--real", metavar="DATASET_OR_FOLDER",
                   help="reference: dataset name or image folder (default: the run's dataset)")
    p.add_argument("--split", default=None,
                   help="split of a --real dataset or of a translation run's data (default: test)")
    p.add_argument("--metrics", default=None,
                   help="comma-separated (default: fid,kid,is,pr,dc; toy points: fid,w1,pr,dc,"
                        "modes)")
    p.add_argument("--n", type=int, default=10_000,
                   help="samples per side (translation: images per direction), capped by the "
                        "data size (default: 10000)")
    p.add_argument("--features", default=None,
                   help="feature extractor (default: the dataset's classifier, else inception)")
    p.add_argument("--inception-weights", metavar="PATH", default=None,
                   help="pt_inception-2015-12-05-6726825d.pth (else the cache, else download)")
    p.add_argument("--batch-size", type=int, default=100, help="extraction batch (default: 100)")
    p.add_argument("--seed", type=int, default=0, help="seed of noise and subsets (default: 0)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (default: cpu)")
    p.add_argument("--data-dir", default=None, help="folder holding datasets")
    p.add_argument("--max-samples", type=int, default=10_000,
                   help="raw features kept per side for KID/PR/DC/1-NN/W1 (default: 10000)")
    p.add_argument("--json", metavar="FILE", default=None, help="write the full record here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate, print the table and optionally write the JSON record (under torchrun: the
    processes share the feature extraction and rank 0 reports)."""
    from ganforge.train.distributed import joined

    with joined() as world:
        return _run(args, world)


def _run(args: argparse.Namespace, world: World) -> int:
    from ganforge.evaluation import EvalOptions, evaluate_folders, evaluate_run
    from ganforge.evaluation.metrics import metric_names, parse_metrics
    from ganforge.train.distributed import training_device
    from ganforge.train.session import resolve_device

    parse = metric_names if args.run else parse_metrics  # a run's kind decides what is valid
    device = training_device(args.device, world) or resolve_device(args.device)
    options = EvalOptions(
        metrics=parse(args.metrics) if args.metrics is not None else None,
        n=args.n, features=args.features, inception_weights=args.inception_weights,
        batch_size=args.batch_size, seed=args.seed, device=str(device),
        max_samples=args.max_samples,
    )
    if args.run and args.fake:
        raise ConfigError("give either RUN or --fake FOLDER, not both")
    if args.run:
        report = evaluate_run(args.run, options, args.real, args.split, args.data_dir)
    elif args.fake:
        if not args.real:
            raise ConfigError("--fake needs --real DATASET_OR_FOLDER to compare against")
        report = evaluate_folders(args.fake, args.real, options, args.split or "test",
                                  args.data_dir)
    else:
        raise ConfigError("name a RUN folder, or give --real DATASET_OR_FOLDER --fake FOLDER")
    if not world.main:
        return 0
    print(report.table())
    if args.json:
        print(f"Wrote {report.write_json(args.json)}")
    if args.run:
        keep_in_run(report, Path(args.run))
    return 0


def keep_in_run(report: Any, run: Path) -> Path | None:
    """Save the record in RUN/evals/ as well, so the run's report and comparisons show it; a
    read-only run folder (someone else's) is a note, not an error."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    folder = run / "evals"
    path = folder / f"eval-{stamp}.json"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"eval-{stamp}-{n}.json"
    try:
        report.write_json(path)
    except OSError as exc:
        print(f"note: could not keep the record in {folder} ({exc.strerror or exc})")
        return None
    print(f"Kept the record in {path} (shown by ganforge report {run})")
    if (run / "tensorboard").is_dir():  # the run was trained with --tensorboard
        from ganforge.train.run import RunDir
        from ganforge.train.tensorboard import log_evaluation

        steps = [r["step"] for r in RunDir(run).read_log()]
        log_evaluation(run / "tensorboard", report.to_dict(), max(steps, default=0))
    return path
