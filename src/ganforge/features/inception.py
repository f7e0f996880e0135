"""The FID Inception-v3: TF's 2015-12-05 Inception graph, as ported to PyTorch by pytorch-fid.

This is the network behind the published FID (and IS) numbers.  It differs from torchvision's
ImageNet Inception-v3 in four places, reproduced here:

* ``fc`` has 1008 outputs (the TF graph's class list), and there are no auxiliary logits;
* the average pools in the A, C and first E blocks ignore the zero padding
  (``count_include_pad=False``, as TF's average pool does);
* the pool branch of the last E block (``Mixed_7c``) is a *max* pool;
* inputs are resized to 299x299 with TF-1 bilinear semantics (see :mod:`.resize`) and mapped
  to [-1, 1] with ``(x - 128) / 128``.

The module's state dict matches ``pt_inception-2015-12-05-6726825d.pth`` key for key (566
tensors); load it with :func:`ganforge.features.weights.load_fid_inception`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.errors import DataError
from ganforge.features.resize import tf1_bilinear_resize

INPUT_SIZE = 299
POOL3_DIM = 2048
NUM_CLASSES = 1008

ImageBatch = Tensor | np.ndarray


class BasicConv2d(nn.Module):
    """Convolution without bias, BatchNorm (eps=0.001) and ReLU."""

    def __init__(self, in_channels: int, out_channels: int, **conv_kwargs: object) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **conv_kwargs)  # type: ignore[arg-type]
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


def _avg_pool() -> nn.AvgPool2d:
    """3x3 stride-1 average pool that, like TF, leaves the zero padding out of the mean."""
    return nn.AvgPool2d(kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDInceptionA(nn.Module):
    """Inception block A (Mixed_5b/c/d) with TF's padding-free average pool."""

    def __init__(self, in_channels: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(in_channels, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.pool = _avg_pool()
        self.branch_pool = BasicConv2d(in_channels, pool_features, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(self.pool(x))
        return torch.cat([b1, b5, b3, bp], 1)


class InceptionB(nn.Module):
    """Grid-reduction block B (Mixed_6a): 35x35 -> 17x17."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(in_channels, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3(x)
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([b3, bd, self.pool(x)], 1)


class FIDInceptionC(nn.Module):
    """Inception block C (Mixed_6b..6e, factorised 7x7) with TF's padding-free average pool."""

    def __init__(self, in_channels: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.pool = _avg_pool()
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4):
            bd = layer(bd)
        bd = self.branch7x7dbl_5(bd)
        bp = self.branch_pool(self.pool(x))
        return torch.cat([b1, b7, bd, bp], 1)


class InceptionD(nn.Module):
    """Grid-reduction block D (Mixed_7a): 17x17 -> 8x8."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_1(x)
        for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = layer(b7)
        return torch.cat([b3, b7, self.pool(x)], 1)


class _InceptionE(nn.Module):
    """Inception block E (expanded 3x3 filter bank); the pool branch's pool is set by subclasses."""

    pool: nn.Module

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(in_channels, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        bp = self.branch_pool(self.pool(x))
        return torch.cat([b1, b3, bd, bp], 1)


class FIDInceptionE_1(_InceptionE):  # noqa: N801 - the pytorch-fid name
    """First E block (Mixed_7b): average pool without the zero padding, as in TF."""

    def __init__(self, in_channels: int) -> None:
        super().__init__(in_channels)
        self.pool = _avg_pool()


class FIDInceptionE_2(_InceptionE):  # noqa: N801 - the pytorch-fid name
    """Second E block (Mixed_7c): the TF graph uses a 3x3 *max* pool in the pool branch."""

    def __init__(self, in_channels: int) -> None:
        super().__init__(in_channels)
        self.pool = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)


@contextmanager
def _exact_float32(device: torch.device) -> Iterator[None]:
    """Disable TF32 and autocast while extracting, so features are plain float32 on any GPU."""
    if device.type != "cuda":
        yield
        return
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        with torch.autocast(device_type="cuda", enabled=False):
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


class FIDInceptionV3(nn.Module):
    """FID Inception-v3 feature extractor (random weights until a state dict is loaded).

    ``forward`` takes an (N, 3, H, W) or (N, 1, H, W) batch, either uint8 or float with values
    in [0, 255], and returns ``{"pool3": (N, 2048), "logits_unbiased": (N, 1008)}`` where
    ``logits_unbiased = pool3 @ fc.weight.T`` (no bias: the Inception Score convention of the
    TF graph and torch-fidelity).
    """

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Mixed_5b = FIDInceptionA(192, pool_features=32)
        self.Mixed_5c = FIDInceptionA(256, pool_features=64)
        self.Mixed_5d = FIDInceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
        self.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = FIDInceptionE_1(1280)
        self.Mixed_7c = FIDInceptionE_2(2048)
        self.fc = nn.Linear(POOL3_DIM, NUM_CLASSES)
        self.eval()

    @staticmethod
    def preprocess(x: Tensor) -> Tensor:
        """Check the batch, repeat grayscale to RGB, TF-1-resize to 299x299, map to [-1, 1]."""
        if x.ndim != 4 or x.shape[1] not in (1, 3):
            raise DataError(
                f"expected images shaped (N, 3, H, W) or (N, 1, H, W), got {tuple(x.shape)}"
            )
        if x.dtype != torch.uint8:
            if not x.is_floating_point():
                raise DataError(f"expected uint8 or float images, got dtype {x.dtype}")
            if x.numel() and (x.min() < 0 or x.max() > 255):
                raise DataError(
                    "float images must hold pixel values in [0, 255]; "
                    f"got [{x.min().item():.3g}, {x.max().item():.3g}]"
                )
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = tf1_bilinear_resize(x, (INPUT_SIZE, INPUT_SIZE))
        return (x - 128.0) / 128.0

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        """Features of a batch of images: ``pool3`` (N, 2048) and ``logits_unbiased`` (N, 1008)."""
        x = self.preprocess(x.to(self.fc.weight.device))
        x = self.maxpool1(self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x))))
        x = self.maxpool2(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)))  # 35x35
        x = self.Mixed_5d(self.Mixed_5c(self.Mixed_5b(x)))
        x = self.Mixed_6a(x)  # 17x17
        x = self.Mixed_6e(self.Mixed_6d(self.Mixed_6c(self.Mixed_6b(x))))
        x = self.Mixed_7a(x)  # 8x8
        x = self.Mixed_7c(self.Mixed_7b(x))
        pool3 = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return {"pool3": pool3, "logits_unbiased": pool3 @ self.fc.weight.T}

    @torch.no_grad()
    def extract(
        self,
        images: ImageBatch | Iterable[ImageBatch],
        batch_size: int = 50,
        device: str | torch.device | None = None,
        progress: bool = False,
    ) -> dict[str, np.ndarray]:
        """Stream images through the network and return numpy float32 features.

        ``images`` is one (N, C, H, W) tensor/array, or an iterable of such batches or of single
        (C, H, W) images (e.g. a DataLoader); they are regrouped into forward passes of at most
        ``batch_size``.  ``device`` moves the module there first (default: where it already is).
        Returns ``{"pool3": (N, 2048), "logits_unbiased": (N, 1008)}`` float32 arrays.
        """
        if batch_size < 1:
            raise DataError(f"batch_size must be at least 1, got {batch_size}")
        if device is not None:
            self.to(device)
        self.eval()
        dev = self.fc.weight.device
        outs: dict[str, list[np.ndarray]] = {"pool3": [], "logits_unbiased": []}
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(desc="inception features", unit="img")
        with _exact_float32(dev):
            for batch in _rebatch(images, batch_size):
                feats = self(batch)
                for key, value in feats.items():
                    outs[key].append(value.float().cpu().numpy())
                if bar is not None:
                    bar.update(len(batch))
        if bar is not None:
            bar.close()
        if not outs["pool3"]:
            raise DataError("no images to extract Inception features from")
        return {key: np.concatenate(parts, 0) for key, parts in outs.items()}


def _as_tensor(item: ImageBatch) -> Tensor:
    """An (N, C, H, W) tensor from a tensor/array batch or a single (C, H, W) image."""
    t = torch.from_numpy(np.ascontiguousarray(item)) if isinstance(item, np.ndarray) else item
    if not isinstance(t, Tensor):
        raise DataError(f"expected image tensors or numpy arrays, got {type(item).__name__}")
    if t.ndim == 3:
        t = t.unsqueeze(0)
    if t.ndim != 4:
        raise DataError(f"expected (N, C, H, W) or (C, H, W) images, got shape {tuple(t.shape)}")
    return t


def _rebatch(images: ImageBatch | Iterable[ImageBatch], batch_size: int) -> Iterator[Tensor]:
    """Regroup tensors/arrays into batches of at most ``batch_size`` images of one shape/dtype."""
    items: Iterable[ImageBatch] = [images] if isinstance(images, Tensor | np.ndarray) else images
    pending: list[Tensor] = []
    count = 0
    for item in items:
        t = _as_tensor(item)
        if pending and (t.shape[1:] != pending[0].shape[1:] or t.dtype != pending[0].dtype):
            yield torch.cat(pending, 0)
            pending, count = [], 0
        while len(t):
            take = t[: batch_size - count]
            t = t[len(take) :]
            pending.append(take)
            count += len(take)
            if count == batch_size:
                yield torch.cat(pending, 0)
                pending, count = [], 0
    if pending:
        yield torch.cat(pending, 0)
