"""`ganforge translate RUN --input IMAGES --out DIR`: a pix2pix, cyclegan or stargan run applied
to your images.

stargan: `--attrs +Blond_Hair,-Male` sets and clears attributes (a set hair colour clears the
others) of each face's own labels, as the run's D reads them; without `--attrs` each output is
the row input | every target of the training figures (hair colours, then the other attributes
flipped), side by side in one image.

Every image is read as `folder:PATH` data is (the run's channels, the shorter side resized to its
image size and centre-cropped), translated in batches, and written as DIR/<same relative
name>.png at the model's resolution; DIR/index.html shows each input next to its output.
Unreadable files are skipped and counted; the input is never written to.
"""

from __future__ import annotations

import argparse
import html
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np
import torch
from tqdm import tqdm

from ganforge.data.folder import IMAGE_EXTENSIONS, decode_image, list_images
from ganforge.errors import ConfigError, DataError
from ganforge.train.console import use_progress_bar
from ganforge.variants.base import MultiTarget
from ganforge.viz import save_grid

if TYPE_CHECKING:
    from ganforge.api import Run

DEFAULT_BATCH = 16
MAX_LISTED = 5  # unreadable files named in the summary line


def add_parser(sub: Any) -> None:
    """Register the `translate` subcommand."""
    p = sub.add_parser("translate",
                       help="translate your images with a pix2pix, cyclegan or stargan run")
    p.add_argument("run", metavar="RUN", help="run folder written by ganforge train")
    p.add_argument("--input", required=True, metavar="FILE_OR_FOLDER",
                   help="an image, or a folder whose images (recursive) are all translated")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="folder for the outputs (same relative names, .png) and index.html")
    p.add_argument("--direction", default="AtoB", metavar="AtoB|BtoA",
                   help="AtoB (the run's input domain to its target) or BtoA (cyclegan only) "
                        "(default: AtoB)")
    p.add_argument("--attrs", default=None, metavar="+NAME,-NAME",
                   help="stargan: attributes to set (+) and clear (-), e.g. +Blond_Hair,-Male "
                        "(default: the row of every target)")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, metavar="N",
                   help=f"images per forward pass (default: {DEFAULT_BATCH})")
    p.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (default: cpu)")
    p.set_defaults(func=run)


def input_files(path: Path) -> tuple[Path, list[Path]]:
    """(root, files): the one file given, or every image under a folder, recursive, sorted."""
    if not path.exists():
        raise DataError(f"--input {path} does not exist; give an image or a folder of images")
    if path.is_file():
        return path.parent, [path]
    files = list_images(path)
    if not files:
        exts = ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS)
        raise DataError(f"no image files ({exts}) found under --input {path}")
    return path, files


def output_names(root: Path, files: list[Path]) -> list[Path]:
    """Each file's path relative to `root` with a .png suffix; names that would collide
    (a.jpg and a.png) keep their old suffix in the stem (a_jpg.png, a_png.png)."""
    rel = [f.relative_to(root) for f in files]
    plain = [r.with_suffix(".png") for r in rel]
    seen: dict[Path, int] = {}
    for p in plain:
        seen[p] = seen.get(p, 0) + 1
    return [p if seen[p] == 1 else r.with_name(f"{r.stem}_{r.suffix.lstrip('.')}.png")
            for r, p in zip(rel, plain)]


def check_out(inp: Path, out: Path, files: list[Path], outputs: list[Path]) -> None:
    """Refuse an --out that would write into the input: equal to it, inside an input folder,
    a file, or a folder where an output would replace an input image."""
    src, dst = inp.resolve(), out.resolve()
    where = "the input" if dst == src else "inside the input folder" if src in dst.parents else ""
    if where:
        raise ConfigError(f"--out {out} is {where} {inp}; translate never writes into its input: "
                          "choose another --out")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder for the outputs")
    inputs = {f.resolve() for f in files}
    for name in outputs:
        if (dst / name).resolve() in inputs:
            raise ConfigError(f"--out {out} would overwrite the input image {out / name}; "
                              "choose another --out")


def decode_all(files: list[Path], shape: tuple[int, int, int], pool: ThreadPoolExecutor
               ) -> list[np.ndarray | None]:
    """uint8 (C, H, W) arrays at the run's size and channels, None for unreadable files."""
    c, size, _ = shape
    return list(pool.map(lambda f: decode_image(f, size, c), files))


def save_image(image: torch.Tensor, path: Path) -> None:
    """One (C, H, W) image in [-1, 1] as a PNG (grayscale for one channel)."""
    save_grid(image.unsqueeze(0), path, nrow=1, padding=0)


def img_src(target: Path, out: Path) -> str:
    """A URL for `target` relative to the folder `out` (absolute file:// across drives)."""
    try:
        rel = os.path.relpath(target.resolve(), out.resolve())
    except ValueError:  # Windows: another drive
        return target.resolve().as_uri()
    return quote(Path(rel).as_posix())


INDEX_CSS = """body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;padding:1em;max-width:44em}
h1{font-size:1.2em}figure{margin:0 0 1.2em}figcaption{font-size:.85em;word-break:break-all}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:.5em}
.pair img{width:100%;height:auto;background:#eee}.pair img.out{image-rendering:pixelated}
.head{font-size:.8em;color:#555}"""


def _figure(src: str, dst: str, caption: str) -> str:
    """One input | output pair of the index page."""
    return (f'<figure><div class="pair"><img src="{src}" alt="input" loading="lazy">'
            f'<img src="{dst}" class="out" alt="output" loading="lazy"></div>'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def write_index(out: Path, title: str, pairs: list[tuple[Path, Path]], skipped: list[str]
                ) -> Path:
    """DIR/index.html: each input next to its output, relative paths, no scripts or resources
    from elsewhere, one column pair wide so it reads on a phone."""
    rows = [_figure(img_src(src, out), img_src(dst, out), dst.relative_to(out).as_posix())
            for src, dst in pairs]
    note = (f"<p>Skipped {len(skipped)} unreadable: {html.escape(', '.join(skipped))}</p>"
            if skipped else "")
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title><style>{INDEX_CSS}</style></head><body>\n"
            f"<h1>{html.escape(title)}</h1>{note}\n"
            f'<div class="pair head"><span>input</span><span>output</span></div>\n'
            + "\n".join(rows) + "\n</body></html>\n")
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def outputs(loaded: Run, x: torch.Tensor, direction: str, batch_size: int,
            attrs: str | None) -> torch.Tensor:
    """The images written for inputs `x` (b, C, H, W): the translations, or for a stargan run
    without `attrs` the row input | every target, side by side (b, C, H, (T + 1) W)."""
    if loaded.multi_target and attrs is None:
        _, row = loaded.translate_row(x, batch_size)  # (b, T, C, H, W)
        return torch.cat([x, *row.unbind(1)], dim=-1)
    return loaded.translate(x, direction, batch_size, attrs=attrs)  # (b, C', H, W) in [-1, 1]


def translate_files(loaded: Run, direction: str, batch_size: int, files: list[Path],
                    targets: list[Path], attrs: str | None = None
                    ) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """Decode, translate and write `files` to `targets` in batches; returns the (input, output)
    pairs written and the unreadable files."""
    shape = loaded.translation_shape(direction)
    done: list[tuple[Path, Path]] = []
    skipped: list[Path] = []
    bar = tqdm(total=len(files), unit="image", disable=not use_progress_bar())
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        for start in range(0, len(files), batch_size):
            chunk = files[start:start + batch_size]
            arrays = decode_all(chunk, shape, pool)
            ok = [(f, t, a) for f, t, a in zip(chunk, targets[start:], arrays) if a is not None]
            skipped += [f for f, a in zip(chunk, arrays) if a is None]
            if ok:
                x = torch.from_numpy(np.stack([a for _, _, a in ok])).float() / 127.5 - 1
                y = outputs(loaded, x, direction, batch_size, attrs)
                for (src, dst, _), image in zip(ok, y):
                    save_image(image, dst)
                    done.append((src, dst))
            bar.update(len(chunk))
    bar.close()
    return done, skipped


def what_of(loaded: Run, direction: str, attrs: str | None) -> str:
    """The translation in words, for the index page's title."""
    if not loaded.multi_target:
        return loaded.direction_name(direction)
    if attrs is not None:
        return attrs
    assert isinstance(loaded.variant, MultiTarget)
    return "input | " + " | ".join(loaded.variant.target_names())


def summary(done: int, skipped: list[str]) -> str:
    """`translated N images, skipped K unreadable: a.jpg, b.png and 3 more`."""
    line = f"translated {done} image{'s' if done != 1 else ''}"
    if skipped:
        names = ", ".join(skipped[:MAX_LISTED])
        more = f" and {len(skipped) - MAX_LISTED} more" if len(skipped) > MAX_LISTED else ""
        line += f", skipped {len(skipped)} unreadable: {names}{more}"
    return line


def run(args: argparse.Namespace) -> int:
    """Translate the input images and write them with an index page."""
    from ganforge.api import Run
    from ganforge.train.session import resolve_device

    if args.batch_size < 1:
        raise ConfigError(f"--batch-size must be positive, got {args.batch_size}")
    inp, out = Path(args.input).expanduser(), Path(args.out).expanduser()
    root, files = input_files(inp)
    names = output_names(root, files)
    check_out(inp, out, files, names)
    loaded = Run(args.run, device=str(resolve_device(args.device)))
    loaded.translation_shape(args.direction)  # a wrong run or direction fails before any work
    loaded.check_attrs(args.attrs)  # so do --attrs on a run without them, or a bad edit
    done, bad = translate_files(loaded, args.direction, args.batch_size, files,
                                [out / name for name in names], args.attrs)
    bad_names = [f.relative_to(root).as_posix() for f in bad]
    if not done:
        what = f"{inp} is not a readable image" if inp.is_file() else (
            f"none of the {len(files)} image files under {inp} could be read")
        raise DataError(f"{what}; nothing translated")
    what = what_of(loaded, args.direction, args.attrs)
    title = f"{loaded.config.model} {what}: {loaded.dir.root}"
    index = write_index(out, title, done, bad_names)
    print(summary(len(done), bad_names))
    print(f"outputs in {out}/, inputs and outputs side by side in {index}")
    return 0
