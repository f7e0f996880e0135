"""Write the per-file SHA256 manifests of the facades and horse2zebra downloads.

    python scripts/make_translation_manifests.py [SHARED_DATA]   # default ../shared/data

The official archives publish no checksum, so the download is checked file by file against
manifests computed here from a verified copy: every facades file must match the copy's
``facades/MD5SUMS`` and every horse2zebra file its ``horse2zebra/SHA256SUMS`` before its SHA256
is written to ``src/ganforge/assets/translation/<name>.sha256.txt``.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "src" / "ganforge" / "assets" / "translation"

HEADERS = {
    "facades": [
        "SHA256 of the files in pix2pix's facades.tar.gz",
        "(http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz), paths relative to",
        "facades/: all 606 files (train 400, val 100, test 106), each matching the MD5SUMS",
        "manifest of a verified copy. Written by scripts/make_translation_manifests.py.",
    ],
    "horse2zebra": [
        "SHA256 of files in CycleGAN's horse2zebra.zip",
        "(http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/horse2zebra.zip), paths relative",
        "to horse2zebra/. Only the files of a verified copy are listed: the complete testA (120)",
        "and testB (140), but only the FIRST 400 files of trainA and trainB (the archive holds",
        "more; the others are not checked). Written by scripts/make_translation_manifests.py.",
    ],
}
SUMS = {"facades": ("MD5SUMS", "md5"), "horse2zebra": ("SHA256SUMS", "sha256")}


def digest(path: Path, algo: str) -> str:
    """Hex digest of a file."""
    return hashlib.new(algo, path.read_bytes()).hexdigest()


def manifest(root: Path, name: str) -> list[str]:
    """'sha256  relative/path' lines for every file listed in the copy's checksum file."""
    sums_file, algo = SUMS[name]
    lines = []
    for row in (root / name / sums_file).read_text().splitlines():
        expected, rel = row.split(maxsplit=1)
        rel = rel.removeprefix("./")
        path = root / name / rel
        if digest(path, algo) != expected:
            sys.exit(f"{path} does not match {sums_file}; refusing to write a manifest")
        lines.append(f"{digest(path, 'sha256')}  {rel}")
    return sorted(lines, key=lambda line: line.split(maxsplit=1)[1])


def main() -> None:
    """Verify the shared copies and write both manifests."""
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / \
        "shared" / "data"
    ASSETS.mkdir(parents=True, exist_ok=True)
    for name, header in HEADERS.items():
        lines = manifest(root, name)
        out = ASSETS / f"{name}.sha256.txt"
        out.write_text("".join(f"# {h}\n" for h in header) + "\n".join(lines) + "\n")
        print(f"{out}: {len(lines)} files")


if __name__ == "__main__":
    main()
