"""`ganforge prepare DATASET --image-size N`: decode a dataset once into prepared data that
training reads from disk batch by batch (for data larger than memory)."""

from __future__ import annotations

import argparse
from typing import Any

DESCRIPTION = """Decode DATASET once, resized to --image-size, into a raw uint8 file with a JSON
header (shape, labels or attributes, the source's checksums), one folder per split. Training
with --data DATASET and the same size picks it up from the cache by itself; --data
prepared:ROOT names any ROOT. Memory stays flat while preparing and while training, whatever
the dataset's size."""

EPILOG = """examples:
  ganforge prepare celeba --image-size 128 --data-dir ~/data
  ganforge train stargan --data celeba --image-size 128 --data-dir ~/data
  ganforge prepare folder:~/photos --image-size 64 --out /scratch/photos64
  ganforge train dcgan --data prepared:/scratch/photos64 --image-size 64"""


def add_parser(sub: Any) -> None:
    """Register the `prepare` subcommand."""
    from ganforge.data.sources import PREPARABLE

    p = sub.add_parser("prepare", help="write a dataset once for training from disk "
                       "(data larger than memory)", description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", metavar="DATASET", help=f"one of: {', '.join(PREPARABLE)}")
    p.add_argument("--image-size", type=int, required=True, metavar="N",
                   help="image side in pixels, as given to `ganforge train`")
    p.add_argument("--channels", type=int, metavar="C",
                   help="1 (gray) or 3 (RGB); default: the data's")
    p.add_argument("--split", help="one split (default: every split the dataset has)")
    p.add_argument("--data-dir", help="folder holding datasets (else $GANFORGE_DATA, the cache)")
    p.add_argument("--out", metavar="ROOT", help="where to write (default: "
                   "$GANFORGE_CACHE/<dataset>-<size>px-<channels>ch, $GANFORGE_CACHE defaulting "
                   "to ~/.cache/ganforge/prepared)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Prepare every asked split and say where it went and how to train on it."""
    from ganforge.data.header import HEADER, read_header
    from ganforge.data.prepare import prepare

    folders = prepare(args.dataset, args.image_size, split=args.split, data_dir=args.data_dir,
                      channels=args.channels, out=args.out)
    for folder in folders:
        h = read_header(folder / HEADER, "run `ganforge prepare` again")
        size = h.count * h.channels * h.image_size ** 2
        print(f"{h.dataset} {h.split}: {h.count} images of {h.channels}x{h.image_size}x"
              f"{h.image_size} ({size / 1e6:.1f} MB) in {folder}")
    root = folders[0].parent
    data = args.dataset if args.out is None else f"prepared:{root}"
    channels = f" --channels {args.channels}" if args.channels else ""
    print(f"train on it with: ganforge train MODEL --data {data} --image-size {args.image_size}"
          f"{channels}")
    return 0
