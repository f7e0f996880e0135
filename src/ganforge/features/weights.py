"""Finding, downloading and loading the FID Inception weights.

The weights are pytorch-fid's port of TF's 2015-12-05 Inception graph.  They are looked for, in
order: at the explicit path (the CLI's ``--inception-weights PATH``), in the cache folder
(``$GANFORGE_CACHE``, else ``$XDG_CACHE_HOME/ganforge``, else ``~/.cache/ganforge``) under
``weights/``, and finally downloaded from the published URL into that cache folder.  Every file
is checked against the published SHA256 before it is used.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path

import torch

from ganforge.download import download_verified
from ganforge.errors import GanforgeError
from ganforge.features.inception import FIDInceptionV3

WEIGHTS_FILENAME = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_SIZE = 95_628_359
WEIGHTS_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
WEIGHTS_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + WEIGHTS_FILENAME
)
_CHUNK = 1 << 20


def cache_dir() -> Path:
    """ganforge's cache folder: ``$GANFORGE_CACHE``, else ``$XDG_CACHE_HOME/ganforge``, else
    ``~/.cache/ganforge``."""
    if os.environ.get("GANFORGE_CACHE"):
        return Path(os.environ["GANFORGE_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "ganforge"
    return Path.home() / ".cache" / "ganforge"


def weights_dir() -> Path:
    """Folder where downloaded (or hand-placed) weights live: ``<cache>/weights``."""
    return cache_dir() / "weights"


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA256 digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _how_to_get(sha256: str) -> str:
    return (
        f"download {WEIGHTS_FILENAME} ({WEIGHTS_SIZE:,} bytes, sha256 {sha256}) from {WEIGHTS_URL}"
        f" into {weights_dir()}/ or pass --inception-weights PATH"
    )


def _check(path: Path, sha256: str, what: str) -> Path:
    """Return ``path`` if its SHA256 is ``sha256``, else fail with a one-line error."""
    got = file_sha256(path)
    if got != sha256.lower():
        raise GanforgeError(
            f"{what} {path} is not the FID Inception weights (sha256 {got[:16]}…, expected"
            f" {sha256}); {_how_to_get(sha256)}"
        )
    return path


def _download(url: str, dest: Path, sha256: str, progress: bool) -> Path:
    """Fetch ``url`` to a temporary file next to ``dest``, check it, then rename it into place."""
    return download_verified(url, dest, sha256, lambda got: GanforgeError(
        f"downloaded {url} has sha256 {got[:16]}…, expected {sha256}; not used. "
        + _how_to_get(sha256)), timeout=60, disable=not progress)


def resolve_inception_weights(
    path: str | os.PathLike[str] | None = None,
    *,
    url: str = WEIGHTS_URL,
    sha256: str = WEIGHTS_SHA256,
    download: bool = True,
    progress: bool = True,
) -> Path:
    """Path of verified FID Inception weights, downloading them into the cache if needed.

    ``path`` (the CLI's ``--inception-weights``) may be the file or a folder holding
    ``pt_inception-2015-12-05-6726825d.pth``; when given it is the only place looked at.  Else
    ``<cache>/weights/`` is tried, then ``url`` is downloaded there (``download=False`` skips
    that).  ``url`` and ``sha256`` are overridable for tests and mirrors.  Any file whose SHA256
    differs from ``sha256`` is rejected; all failures are one-line :class:`GanforgeError`.
    """
    if path is not None:
        explicit = Path(path).expanduser()
        if explicit.is_dir():
            explicit = explicit / WEIGHTS_FILENAME
        if not explicit.is_file():
            raise GanforgeError(f"--inception-weights: no such file {explicit}")
        return _check(explicit, sha256, "--inception-weights file")

    cached = weights_dir() / WEIGHTS_FILENAME
    if cached.is_file():
        return _check(cached, sha256, "cached file (delete it to download again)")
    if not download:
        raise GanforgeError(f"FID Inception weights not found; {_how_to_get(sha256)}")
    try:
        return _download(url, cached, sha256, progress)
    except GanforgeError:
        raise
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = _one_line(getattr(exc, "reason", None) or exc)
        raise GanforgeError(
            f"FID Inception weights not found and the download failed ({reason}); "
            + _how_to_get(sha256)
        ) from None


def load_fid_inception(
    path: str | os.PathLike[str] | None = None,
    device: str | torch.device = "cpu",
    *,
    url: str = WEIGHTS_URL,
    sha256: str = WEIGHTS_SHA256,
    progress: bool = True,
) -> FIDInceptionV3:
    """The FID Inception with its published weights, in eval mode on ``device``.

    The weights are found by :func:`resolve_inception_weights`, read with
    ``torch.load(weights_only=True, map_location="cpu")`` and loaded with ``strict=True``.
    """
    file = resolve_inception_weights(path, url=url, sha256=sha256, progress=progress)
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a user-facing error
        raise GanforgeError(f"cannot read FID Inception weights {file}: {_one_line(exc)}") from None
    model = FIDInceptionV3()
    if not isinstance(state, dict):
        raise GanforgeError(f"{file} does not hold a state dict (got {type(state).__name__})")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = _one_line(str(exc).splitlines()[1] if "\n" in str(exc) else exc)
        raise GanforgeError(f"{file} does not fit the FID Inception: {first}") from None
    return model.eval().to(device)
