"""Image-to-image translation data: paired (Pix2Pix) and unpaired (CycleGAN) image sets.

Both keep their two domains in memory as uint8 (N, C, L, L) at the load size L and cut the
training crop per batch, on tensors: "resize to 286, random crop 256, random horizontal flip",
the augmentation of both papers' code (Isola et al. 2017, sec. 6.2; Zhu et al. 2017, sec. 7.1).
Every random choice (crop offsets, flips, unpaired partners) is drawn from the generator the
loader seeds per batch, so a resumed run sees the same batches. Without a generator (previews,
evaluation) a batch is the centre crop, unflipped, and unpaired partners are B[i % NB].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from ganforge.data.batch import Batch
from ganforge.data.dataset import to_unit_range
from ganforge.data.spec import DataSpec
from ganforge.errors import DataError

#: Load size of the papers for a 256 crop; other crops scale it (64 -> 72, 128 -> 143).
PAPER_LOAD, PAPER_CROP = 286, 256


def load_size(crop: int) -> int:
    """The load size for a training crop: crop * 286 / 256, rounded half up."""
    return (int(crop) * PAPER_LOAD + PAPER_CROP // 2) // PAPER_CROP


def _check_images(name: str, what: str, images: Tensor, crop: int) -> None:
    """One-line errors unless `images` are uint8 (N >= 1, C, L, L) with L >= crop."""
    shape = tuple(images.shape)
    if images.dtype != torch.uint8 or images.dim() != 4 or shape[0] == 0 or shape[2] != shape[3]:
        raise DataError(f"{name}: domain {what} must be uint8 images (N >= 1, C, L, L), got "
                        f"{images.dtype} of shape {shape}")
    if not 0 < crop <= shape[2]:
        raise DataError(f"{name}: crop {crop} does not fit domain {what}'s {shape[2]}x{shape[2]} "
                        f"images; use an image size from 1 to {shape[2]}")


@dataclass(frozen=True)
class Windows:
    """Where each example of a batch is cropped: top-left corners and horizontal flips, (n,)."""

    top: Tensor
    left: Tensor
    flip: Tensor


def crop_windows(n: int, size: int, crop: int, flip: bool,
                 gen: torch.Generator | None) -> Windows:
    """The crop windows of `n` examples of `size` x `size` images.

    With `gen`: a uniform offset per example and axis, and for `flip` a horizontal flip with
    probability 0.5; drawn in that order (rows, columns, flips). Without: the centre crop.
    """
    if gen is None:
        centre = torch.full((n,), (size - crop) // 2, dtype=torch.int64)
        return Windows(centre, centre, torch.zeros(n, dtype=torch.bool))
    top = torch.randint(0, size - crop + 1, (n,), generator=gen)
    left = torch.randint(0, size - crop + 1, (n,), generator=gen)
    flips = torch.rand(n, generator=gen) < 0.5 if flip else torch.zeros(n, dtype=torch.bool)
    return Windows(top, left, flips)


def take_windows(images: Tensor, idx: Tensor, win: Windows, crop: int) -> Tensor:
    """The crops of images[idx], flipped where `win.flip`: (n, C, crop, crop), same dtype.

    A loop of tensor slices: about 25x faster than one advanced-indexing gather (CPU, 64 crops
    of 256 px).
    """
    out = torch.empty((len(idx), images.shape[1], crop, crop), dtype=images.dtype)
    rows = zip(idx.tolist(), win.top.tolist(), win.left.tolist(), win.flip.tolist())
    for k, (i, top, left, flip) in enumerate(rows):
        window = images[i, :, top : top + crop, left : left + crop]
        out[k] = window.flip(-1) if flip else window
    return out


def _domains(domains: tuple[str, ...]) -> tuple[str, str]:
    """The two domain names, checked."""
    if len(domains) != 2:
        raise DataError(f"a translation dataset has two domains, got {domains}")
    return str(domains[0]), str(domains[1])


@dataclass
class PairedImages:
    """Aligned pairs (A[i], B[i]) (Pix2Pix): A the generator's input, B its target.

    `a` and `b` are uint8 (N, C, L, L) at the load size; the direction is applied at load time.
    Augmentation cuts the same crop, with the same flip, from both images of a pair.
    """

    name: str
    a: Tensor
    b: Tensor
    crop: int
    flip: bool = True
    domains: tuple[str, str] = ("A", "B")
    skipped: int = 0
    kind: str = field(default="image", init=False)

    def __post_init__(self) -> None:
        _check_images(self.name, "A", self.a, self.crop)
        _check_images(self.name, "B", self.b, self.crop)
        if self.a.shape[0] != self.b.shape[0] or self.a.shape[2:] != self.b.shape[2:]:
            raise DataError(f"{self.name}: paired domains differ in count or size: A is "
                            f"{tuple(self.a.shape)}, B is {tuple(self.b.shape)} (N, C, H, W)")
        self.domains = _domains(self.domains)

    def __len__(self) -> int:
        """Number of pairs."""
        return int(self.a.shape[0])

    def spec(self) -> DataSpec:
        """Paired image data: A's crop shape, then B's."""
        return DataSpec("image", (int(self.a.shape[1]), self.crop, self.crop), pairing="paired",
                        domains=self.domains, shape_b=(int(self.b.shape[1]), self.crop, self.crop))

    def make_batch(self, idx: Tensor, device: torch.device, gen: torch.Generator | None = None,
                   labels: bool = True) -> Batch:
        """Pairs `idx`, cropped (and flipped) alike, in [-1, 1]: Batch(x=b, a=a, b=b)."""
        win = crop_windows(len(idx), int(self.a.shape[-1]), self.crop, self.flip, gen)
        a = to_unit_range(take_windows(self.a, idx, win, self.crop), device)
        b = to_unit_range(take_windows(self.b, idx, win, self.crop), device)
        return Batch(x=b, a=a, b=b)


@dataclass
class UnpairedImages:
    """Two unaligned image sets (CycleGAN); an epoch walks the larger one.

    Example i is A[i % NA] with a partner drawn uniformly from B by the batch's generator (as
    CycleGAN's unaligned loader without --serial_batches), or B[i % NB] without one. A and B get
    independent crops and flips. `labels_a` / `labels_b` (int64, optional) are class labels kept
    for scoring (MNIST-style digits); a batch carries A's as `y`.
    """

    name: str
    a: Tensor
    b: Tensor
    crop: int
    flip: bool = True
    domains: tuple[str, str] = ("A", "B")
    labels_a: Tensor | None = None
    labels_b: Tensor | None = None
    num_classes: int | None = None
    skipped: int = 0
    kind: str = field(default="image", init=False)

    def __post_init__(self) -> None:
        _check_images(self.name, "A", self.a, self.crop)
        _check_images(self.name, "B", self.b, self.crop)
        for what, images, labels in (("A", self.a, self.labels_a), ("B", self.b, self.labels_b)):
            if labels is not None and tuple(labels.shape) != (images.shape[0],):
                raise DataError(f"{self.name}: domain {what} has {images.shape[0]} images but "
                                f"labels of shape {tuple(labels.shape)}")
        self.domains = _domains(self.domains)

    def __len__(self) -> int:
        """max(NA, NB): an epoch sees every image of the larger domain once."""
        return int(max(self.a.shape[0], self.b.shape[0]))

    def spec(self) -> DataSpec:
        """Unpaired image data: A's crop shape, then B's."""
        return DataSpec("image", (int(self.a.shape[1]), self.crop, self.crop),
                        num_classes=self.num_classes, pairing="unpaired", domains=self.domains,
                        shape_b=(int(self.b.shape[1]), self.crop, self.crop))

    def partners(self, idx: Tensor, gen: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Indices into A and into B of examples `idx` (B drawn from `gen` when given)."""
        nb = int(self.b.shape[0])
        ib = idx % nb if gen is None else torch.randint(0, nb, (len(idx),), generator=gen)
        return idx % int(self.a.shape[0]), ib

    def _crop(self, images: Tensor, idx: Tensor, gen: torch.Generator | None) -> Tensor:
        """Crops of images[idx], each with its own window."""
        win = crop_windows(len(idx), int(images.shape[-1]), self.crop, self.flip, gen)
        return take_windows(images, idx, win, self.crop)

    def make_batch(self, idx: Tensor, device: torch.device, gen: torch.Generator | None = None,
                   labels: bool = True) -> Batch:
        """Examples `idx` with their B partners, in [-1, 1]: Batch(x=b, a=a, b=b, y=A's labels)."""
        ia, ib = self.partners(idx, gen)  # draws partners first, then A's window, then B's
        a = to_unit_range(self._crop(self.a, ia, gen), device)
        b = to_unit_range(self._crop(self.b, ib, gen), device)
        y = self.labels_a[ia].to(device) if labels and self.labels_a is not None else None
        return Batch(x=b, y=y, a=a, b=b)
