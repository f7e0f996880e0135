"""Sample sources: where the images (or toy points) of one side of a comparison come from.

Every source yields `Chunk`s of uint8 (B, C, H, W) images (float (B, D) for toy points), with
class labels when it has them, so a metric never cares whether the samples come from a run, a
folder of PNGs or a dataset split. A `seed` fixes any random subset or generator noise, and the
stream does not depend on the batch size.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from ganforge.data.dataset import InMemoryDataset
from ganforge.data.folder import IMAGE_EXTENSIONS, decode_image, list_images, open_image
from ganforge.errors import DataError

if TYPE_CHECKING:
    from ganforge.api import Run

#: Generator noise is drawn in chunks of this many samples, whatever the batch size.
NOISE_CHUNK = 500


@dataclass
class Chunk:
    """A batch of samples: uint8 images (B, C, H, W) or float points (B, D), and labels (B,)."""

    x: Tensor
    y: Tensor | None = None


def subset(total: int, n: int, seed: int) -> Tensor:
    """Indices of `n` of `total` items: all of them in order, else a seeded sorted random subset."""
    if n >= total:
        return torch.arange(total)
    gen = torch.Generator().manual_seed(seed)
    return torch.randperm(total, generator=gen)[:n].sort().values


def to_uint8(images: Tensor) -> Tensor:
    """Generator output in [-1, 1] -> uint8 [0, 255], rounded as when saving a PNG."""
    return ((images.float() + 1.0) * 127.5).round_().clamp_(0, 255).to(torch.uint8)


class SampleSource(ABC):
    """One side of a comparison: a named stream of images or points."""

    name: str  # for the record: "mnist:test", "folder:PATH", "run:PATH"
    kind: str = "image"  # "image" or "points"
    dataset: str | None = None  # the dataset behind it, for default extractors and toy modes
    split: str | None = None
    num_classes: int | None = None
    labelled: bool = False

    @abstractmethod
    def available(self) -> int | None:
        """How many samples there are (None: unlimited, e.g. a generator)."""

    @abstractmethod
    def chunks(self, n: int, batch_size: int, seed: int) -> Iterator[Chunk]:
        """`n` samples (at most `available()`), in batches of at most `batch_size`."""

    def count(self, n: int) -> int:
        """How many samples `chunks(n, …)` will yield."""
        avail = self.available()
        return n if avail is None else min(n, avail)


class DatasetSource(SampleSource):
    """A loaded dataset split (real reference images, or toy points); `reload(split)` gives
    another split of the same dataset, loaded the same way (GAN-train needs the train split)."""

    def __init__(self, data: InMemoryDataset, split: str | None = None,
                 reload: Callable[[str], InMemoryDataset] | None = None) -> None:
        self.data, self.split, self.reload = data, split, reload
        self.name = f"{data.name}:{split}" if split else data.name
        self.kind, self.dataset, self.num_classes = data.kind, data.name, data.num_classes
        self.labelled = data.labels is not None

    def available(self) -> int | None:
        return len(self.data)

    def chunks(self, n: int, batch_size: int, seed: int) -> Iterator[Chunk]:
        idx = subset(len(self.data), n, seed)
        labels = self.data.labels
        for start in range(0, len(idx), batch_size):
            part = idx[start : start + batch_size]
            yield Chunk(self.data.data[part], None if labels is None else labels[part])


def _folder_label(path: Path, root: Path) -> int | None:
    """Class label from a `root/<int>/file` layout, else None."""
    parts = path.relative_to(root).parts
    return int(parts[0]) if len(parts) == 2 and parts[0].isdigit() else None


def image_format(path: Path) -> tuple[int, int]:
    """(channels, side) of the first image: 1 for gray modes, else 3; the shorter side."""
    try:
        with open_image(path) as img:
            channels = 1 if img.mode in ("1", "L", "LA", "I", "I;16", "F") else 3
            return channels, min(img.size)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a one-line user error
        raise DataError(f"cannot read image {path}: {exc}") from None


class FolderSource(SampleSource):
    """Every image under a folder (recursive), decoded in batches; labels from `<int>/` folders.

    Images are squared to the side of the first image (or `size`) with its channel count (or
    `channels`), exactly as ``ganforge train --data folder:PATH`` loads them.
    """

    def __init__(self, path: str | os.PathLike[str], channels: int | None = None,
                 size: int | None = None, what: str = "folder") -> None:
        self.root = Path(path).expanduser()
        if not self.root.is_dir():
            raise DataError(f"{what} {self.root} is not an existing folder")
        self.files = list_images(self.root)
        if not self.files:
            exts = ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS)
            raise DataError(f"{what} {self.root} holds no image files ({exts})")
        first_channels, first_size = image_format(self.files[0])
        self.channels, self.size = channels or first_channels, size or first_size
        self.name, self.split = f"folder:{self.root}", None
        self.labels = [_folder_label(f, self.root) for f in self.files]
        self.labelled = all(label is not None for label in self.labels)
        if self.labelled:
            self.num_classes = max(label for label in self.labels if label is not None) + 1

    def available(self) -> int | None:
        return len(self.files)

    def chunks(self, n: int, batch_size: int, seed: int) -> Iterator[Chunk]:
        idx = subset(len(self.files), n, seed).tolist()
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            for start in range(0, len(idx), batch_size):
                part = idx[start : start + batch_size]
                arrays = pool.map(lambda i: decode_image(self.files[i], self.size, self.channels),
                                  part)
                kept = [(a, i) for a, i in zip(arrays, part) if a is not None]
                if kept:
                    yield self._chunk(kept)

    def _chunk(self, kept: list[tuple[np.ndarray, int]]) -> Chunk:
        """Stack decoded images and their labels."""
        x = torch.from_numpy(np.stack([a for a, _ in kept]))
        y = torch.tensor([self.labels[i] for _, i in kept]) if self.labelled else None
        return Chunk(x, y)


class RunSource(SampleSource):
    """Samples of a trained run's generator; noise is drawn NOISE_CHUNK samples at a time."""

    def __init__(self, path: str | os.PathLike[str], device: str = "cpu",
                 run: Run | None = None) -> None:
        """The run at `path`, loaded here unless `run` is it, already loaded."""
        from ganforge.api import load_run

        self.run = run if run is not None else load_run(Path(path), device)
        self.name, self.kind = f"run:{path}", self.run.spec.kind
        self.dataset, self.num_classes = self.run.config.data, self.run.spec.num_classes
        self.labelled = self.run.conditional  # cgan / acgan: the noise carries labels "y"

    def available(self) -> int | None:
        return None

    def chunks(self, n: int, batch_size: int, seed: int) -> Iterator[Chunk]:
        gen = torch.Generator().manual_seed(seed)
        for start in range(0, n, NOISE_CHUNK):
            inputs = self.run.variant.noise(min(NOISE_CHUNK, n - start), gen)
            for b in range(0, len(inputs["z"]), batch_size):
                part = {k: v[b : b + batch_size] for k, v in inputs.items()}
                out = self.run.generate(part)
                x = to_uint8(out) if self.kind == "image" else out.float()
                y = part.get("y")
                yield Chunk(x, None if y is None else y.cpu().long())
