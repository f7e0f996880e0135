"""The pix2pix and CycleGAN datasets (facades, horse2zebra): lookup, download, verification.

A dataset folder `<root>/facades` or `<root>/horse2zebra` is looked up, in order, in the
`data_dir` argument, in `$GANFORGE_DATA` and in the cache folder (as for Fashion-MNIST, see
`idx.py`). When the split is in none of them, the official archive is downloaded (with a progress
bar) and extracted into a temporary folder in the cache; every extracted file that the shipped
manifest (`assets/translation/<name>.sha256.txt`) lists is checked by SHA256, and only then is
the folder moved into place, in one rename. The archives publish no checksum of their own.
"""

from __future__ import annotations

import shutil
import sys
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ganforge.data.idx import (
    _NETWORK_ERRORS,
    DOWNLOAD_TIMEOUT_S,
    PathArg,
    _one_line,
    cache_dir,
    search_roots,
    sha256_file,
)
from ganforge.download import fetch
from ganforge.errors import DataError

MANIFEST_DIR = Path(__file__).resolve().parent.parent / "assets" / "translation"


@dataclass(frozen=True)
class ArchiveSet:
    """A dataset distributed as one archive holding the folder `<name>/`."""

    name: str
    splits: dict[str, tuple[str, ...]]  # split -> the sub-folders it needs
    what: str  # what the sub-folders hold, for error messages


ARCHIVE_SETS = {
    "facades": ArchiveSet("facades", {"train": ("train",), "val": ("val",), "test": ("test",)},
                          "512x256 JPEGs, photo and label map side by side"),
    "horse2zebra": ArchiveSet("horse2zebra", {"train": ("trainA", "trainB"),
                                              "test": ("testA", "testB")},
                              "256x256 JPEGs of horses (A) and zebras (B)"),
}

# Download sources, tried in order. Tests and mirrors may replace these lists.
URLS: dict[str, list[str]] = {
    "facades": ["http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz"],
    "horse2zebra": ["http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/horse2zebra.zip"],
}
_ARCHIVE_ERRORS = (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error)


def read_manifest(name: str) -> dict[str, str]:
    """{path relative to the dataset folder: SHA256} from the shipped manifest of `name`."""
    entries = {}
    for line in (MANIFEST_DIR / f"{name}.sha256.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, rel = line.split(maxsplit=1)
            entries[rel] = digest
    return entries


def find_set(name: str, split: str, data_dir: PathArg | None = None) -> Path | None:
    """The first `<root>/<name>` holding the folders of `split`, or None."""
    subs = ARCHIVE_SETS[name].splits[split]
    for root in search_roots(data_dir):
        if all((root / name / sub).is_dir() for sub in subs):
            return root / name
    return None


def verify_files(folder: Path, manifest: dict[str, str], source: str) -> None:
    """Check every file the manifest lists against its SHA256; a one-line DataError if not."""
    missing = [rel for rel in manifest if not (folder / rel).is_file()]
    if missing:
        raise DataError(f"{source} lacks {len(missing)} of the {len(manifest)} files its manifest "
                        f"lists (e.g. {missing[0]}); it was discarded")
    for rel, want in manifest.items():
        if (got := sha256_file(folder / rel)) != want:
            raise DataError(f"{source}: {rel} has SHA256 {got[:16]}..., expected {want[:16]}...; "
                            "the download was discarded (bad mirror or corrupted transfer)")


def _safe(member: str) -> bool:
    """True for a relative path that stays inside the extraction folder."""
    path = PurePosixPath(member)
    return not path.is_absolute() and ".." not in path.parts


def _extract_zip(archive: Path, dest: Path) -> list[str]:
    """Extract a zip unless it has unsafe entries; return those."""
    with zipfile.ZipFile(archive) as zf:
        bad = [n for n in zf.namelist() if not _safe(n)]
        if not bad:
            zf.extractall(dest)
    return bad


def _extract_tar(archive: Path, dest: Path) -> list[str]:
    """Extract a (compressed) tar unless it has unsafe entries (links included); return those."""
    with tarfile.open(archive, "r:*") as tf:
        members = tf.getmembers()
        bad = [m.name for m in members if not (_safe(m.name) and (m.isfile() or m.isdir()))]
        if bad:
            return bad
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 (and the default from 3.14)
            tf.extractall(dest, members=members, filter="data")
        else:
            tf.extractall(dest, members=members)
    return bad


def extract(archive: Path, dest: Path, source: str) -> None:
    """Extract a .zip or a (compressed) tar into `dest`: plain files and folders only."""
    try:
        unzip = zipfile.is_zipfile(archive)
        bad = _extract_zip(archive, dest) if unzip else _extract_tar(archive, dest)
    except _ARCHIVE_ERRORS as exc:
        raise DataError(f"{source} is not a readable archive ({_one_line(exc)})") from None
    if bad:
        raise DataError(f"{source} holds unsafe entries (links or paths outside the folder, "
                        f"e.g. {bad[0]}); it was not extracted")


def _install(name: str, archive: Path, work: Path, source: str) -> Path:
    """Extract, verify and move `<name>/` from `archive` into the cache, in one rename."""
    extract(archive, work / "x", source)
    folder = work / "x" / name
    if not folder.is_dir():
        raise DataError(f"{source} has no top-level folder '{name}/'; it was discarded")
    verify_files(folder, read_manifest(name), source)
    folder.rename(cache_dir() / name)
    return cache_dir() / name


def download_set(name: str, urls: Sequence[str] | None = None) -> Path:
    """Download, verify and install archive set `name` into the cache; return its folder."""
    if (cache_dir() / name).exists():
        raise DataError(f"{cache_dir() / name} exists but lacks the requested split; delete it "
                        "to download the archive again")
    cache_dir().mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls if urls is not None else URLS[name]:
        work = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".part", dir=cache_dir()))
        try:
            print(f"downloading {url} -> {cache_dir() / name}", file=sys.stderr)
            with open(work / "archive", "wb") as out:
                fetch(url, out, Path(url).name, DOWNLOAD_TIMEOUT_S)
            return _install(name, work / "archive", work, url)
        except _NETWORK_ERRORS as exc:
            errors.append(f"{url}: {_one_line(exc)}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    raise OSError("; ".join(errors) or "no download URL configured")


def _missing_error(name: str, split: str, data_dir: PathArg | None, reason: str) -> DataError:
    """The one-line error for a split that is neither on disk nor downloadable."""
    spec = ARCHIVE_SETS[name]
    folders = ", ".join(f"DIR/{name}/{sub}/" for sub in spec.splits[split])
    searched = ", ".join(str(r / name) for r in search_roots(data_dir))
    return DataError(f"{name} {split} not found and could not be downloaded ({reason}); put "
                     f"{folders} ({spec.what}) under DIR and pass --data-dir DIR or set "
                     f"GANFORGE_DATA=DIR (searched: {searched})")


def resolve_set(name: str, split: str, data_dir: PathArg | None = None, *,
                download: bool = True, urls: Sequence[str] | None = None) -> Path:
    """The folder `<root>/<name>` holding `split`, downloading the archive if needed."""
    folder = find_set(name, split, data_dir)
    if folder is not None:
        return folder
    if not download:
        raise _missing_error(name, split, data_dir, "downloads are disabled")
    try:
        folder = download_set(name, urls)
    except _NETWORK_ERRORS as exc:
        raise _missing_error(name, split, data_dir, _one_line(exc)) from None
    if find_set(name, split, data_dir) != folder:
        raise _missing_error(name, split, data_dir, f"the archive lacks {split}")
    return folder
