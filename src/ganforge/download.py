"""Downloads that land whole or not at all: stream a URL into a temporary file beside the
destination with a progress bar, check its SHA256, then rename it into place (a failed or
mismatching transfer leaves nothing behind). Used for the MNIST-style IDX files, the archive
datasets and the FID Inception weights."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

CHUNK = 1 << 20


def fetch(url: str, out: BinaryIO, desc: str, timeout: float, disable: bool | None = None
          ) -> str:
    """Stream `url` into `out` with a progress bar (`disable` None: only on a terminal); return
    the SHA256 of what was written."""
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        total = int(resp.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=desc, disable=disable) as bar:
            while chunk := resp.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
    return digest.hexdigest()


def download_verified(url: str, dest: Path, sha256: str, mismatch: Callable[[str], Exception],
                      timeout: float, disable: bool | None = None) -> Path:
    """Download `url` to `dest` atomically; a SHA256 other than `sha256` raises `mismatch(got)`
    and discards the transfer."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with open(fd, "wb") as out:
            got = fetch(url, out, dest.name, timeout, disable)
        if got != sha256.lower():
            raise mismatch(got)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest
