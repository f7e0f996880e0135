"""celeba and domains:PATH data: both CelebA layouts, the central square crop, the fixed held-out
split, flips from the batch's generator, and one-line errors for bad attribute files, rows that
do not match the images and empty domain folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.cli.main import main
from ganforge.data import dataset_names, load_dataset
from ganforge.data.celeba import decode_face, find_celeba, parse_attr_file
from ganforge.errors import DataError

SUBSET = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba_10k_89x109"
needs_subset = pytest.mark.skipif(not SUBSET.is_dir(), reason="no shared CelebA subset")


def make_celeba(root: Path, n: int) -> Path:
    """The official layout (celeba/img_align_celeba + list_attr_celeba.txt) with the subset's
    first `n` faces; returns the data root."""
    lines = (SUBSET / "list_attr_celeba.txt").read_text().splitlines()
    folder = root / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    rows = lines[2 : 2 + n]
    for row in rows:
        shutil.copy(SUBSET / "images" / row.split()[0], folder)
    (root / "celeba" / "list_attr_celeba.txt").write_text("\n".join([str(n), lines[1], *rows]))
    return root


@needs_subset
def test_official_layout_split_and_attributes(tmp_path: Path) -> None:
    root = make_celeba(tmp_path, 20)
    train = load_dataset("celeba", data_dir=str(root), image_size=8)
    test = load_dataset("celeba", split="test", data_dir=str(root), image_size=8)
    assert (len(train), len(test)) == (18, 2)
    spec = test.spec()
    assert spec.shape == (3, 8, 8) and len(spec.attributes) == 40
    assert "rows 19-20 of the 20" in spec.split_rule
    assert test.spec().to_dict()["split_rule"] == spec.split_rule
    # the held-out rows' attributes, read straight from the text file
    row = (SUBSET / "list_attr_celeba.txt").read_text().splitlines()[2 + 19].split()
    assert test.attrs is not None
    assert test.attrs[1].tolist() == [int(v == "1") for v in row[1:]]


@needs_subset
def test_the_shared_subset_is_found_through_ganforge_data() -> None:
    images, attr_file = find_celeba(None)
    assert images.name in ("images", "img_align_celeba") and attr_file.is_file()


def test_the_central_square_is_cropped(tmp_path: Path) -> None:
    img = np.zeros((14, 10, 3), dtype=np.uint8)  # 10 wide, 14 high: rows 2..11 are the square
    img[:, :, 0] = 255
    img[2:12, :, :] = (0, 200, 0)
    Image.fromarray(img).save(tmp_path / "face.png")
    out = decode_face(tmp_path / "face.png", 5)
    assert out is not None
    (arr,) = out
    assert arr.shape == (3, 5, 5)
    assert int(arr[0].max()) == 0 and int(arr[1].min()) == 200  # no red border left


def test_flips_come_from_the_batch_generator(tmp_path: Path) -> None:
    from ganforge.data.multidomain import MultiDomainImages

    images = torch.arange(2 * 3 * 4 * 4, dtype=torch.uint8).reshape(2, 3, 4, 4)
    data = MultiDomainImages("t", images, attrs=torch.zeros(2, 1, dtype=torch.uint8),
                             attributes=("a",))
    idx, cpu = torch.tensor([0, 1, 0, 1, 0, 1]), torch.device("cpu")
    plain = data.make_batch(idx, cpu).x
    flipped = data.make_batch(idx, cpu, torch.Generator().manual_seed(1)).x
    mask = torch.rand(6, generator=torch.Generator().manual_seed(1)) < 0.5
    assert 0 < int(mask.sum()) < 6
    assert torch.equal(flipped[mask], plain[mask].flip(-1))
    assert torch.equal(flipped[~mask], plain[~mask])


def _write_attrs(path: Path, text: str) -> None:
    path.write_text(text)


@needs_subset
@pytest.mark.parametrize(("edit", "message"), [
    (lambda lines: ["twenty", *lines[1:]], "line 1 must be the number of images"),
    (lambda lines: [*lines[:3], lines[3].rsplit(" ", 1)[0], *lines[4:]],
     "line 4: expected a file name and 40 values"),
    (lambda lines: ["21", *lines[1:]], "announces 21 images but 20 rows follow"),
])
def test_a_malformed_attribute_file_is_a_one_line_error(tmp_path: Path, edit: object,
                                                        message: str) -> None:
    root = make_celeba(tmp_path, 20)
    attr = root / "celeba" / "list_attr_celeba.txt"
    attr.write_text("\n".join(edit(attr.read_text().splitlines())))  # type: ignore[operator]
    with pytest.raises(DataError, match=message) as e:
        parse_attr_file(attr)
    assert "\n" not in str(e.value)


@needs_subset
def test_rows_that_do_not_match_the_images_are_an_error(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    root = make_celeba(tmp_path, 20)
    (root / "celeba" / "img_align_celeba" / "000003.jpg").unlink()
    assert main(["train", "stargan", "--data-dir", str(root), "--image-size", "8",
                 "--steps", "1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert "does not match" in err and "000003.jpg" in err and "\n" not in err
    shutil.copy(SUBSET / "images" / "000003.jpg", root / "celeba" / "img_align_celeba")
    shutil.copy(SUBSET / "images" / "000050.jpg", root / "celeba" / "img_align_celeba")
    with pytest.raises(DataError, match="1 images are not listed"):
        load_dataset("celeba", data_dir=str(root), image_size=8)


def _domains(root: Path, counts: dict[str, int]) -> Path:
    rng = np.random.default_rng(0)
    for name, n in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            arr = rng.integers(0, 255, (12, 10, 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / name / f"{i:02d}.png")
    return root


def test_domain_folders_split_per_domain(tmp_path: Path) -> None:
    root = _domains(tmp_path / "d", {"happy": 10, "sad": 5})
    train = load_dataset(f"domains:{root}", image_size=8)
    test = load_dataset(f"domains:{root}", split="test", image_size=8)
    assert (len(train), len(test)) == (13, 2)  # the last file of each domain is held out
    assert train.spec().domains == ("happy", "sad") and train.spec().num_classes == 2
    assert train.labels is not None and train.labels.tolist() == [0] * 9 + [1] * 4
    batch = test.make_batch(torch.arange(2), torch.device("cpu"))
    assert batch.y is not None and batch.y.tolist() == [0, 1] and batch.attrs is None
    assert "domains:PATH" in dataset_names() and "celeba" in dataset_names()


def test_an_empty_domain_folder_is_a_one_line_error(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    root = _domains(tmp_path / "d", {"happy": 3})
    (root / "sad").mkdir()
    with pytest.raises(DataError, match="sad has no image files"):
        load_dataset(f"domains:{root}", image_size=8)
    assert main(["train", "stargan", "--data", f"domains:{root}", "--image-size", "8",
                 "--steps", "1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert "sad has no image files" in err and "\n" not in err
    with pytest.raises(DataError, match="needs at least two"):
        load_dataset(f"domains:{root / 'happy'}", image_size=8)
