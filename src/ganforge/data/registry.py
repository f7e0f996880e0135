"""Dataset names, descriptions and the one `load_dataset` entry point."""

from __future__ import annotations

from ganforge.data import archives, digit_styles, idx
from ganforge.data.celeba import load_celeba
from ganforge.data.dataset import InMemoryDataset
from ganforge.data.domain_folders import PREFIX as DOMAINS_PREFIX
from ganforge.data.domain_folders import load_domains
from ganforge.data.folder import load_folder
from ganforge.data.multidomain import MultiDomainImages
from ganforge.data.prepared import PREFIX as PREPARED_PREFIX
from ganforge.data.prepared import find_prepared, open_prepared
from ganforge.data.shaping import check_image_options, shape_images
from ganforge.data.stacked import NUM_MODES, stack_digits
from ganforge.data.toy import TOY_SETS, make_toy
from ganforge.data.translation import PairedImages, UnpairedImages
from ganforge.data.translation_load import (
    DIRECTIONS,
    PAIRED_SPLITS,
    UNPAIRED_SPLITS,
    load_paired,
    load_unpaired,
)
from ganforge.errors import ConfigError, choices_error

FOLDER_PREFIX = "folder:"
PAIRED_PREFIX = "paired:"
UNPAIRED_PREFIX = "unpaired:"
TEST_STREAM = 1  # toy sets: the test split is an independent draw with the same seed

_IMAGE_SETS = {
    "mnist": "MNIST digits, 60k train / 10k test, 28x28 gray, 10 classes (shipped)",
    "fashion-mnist": "Fashion-MNIST clothing, 60k / 10k, 28x28 gray, 10 classes "
    "(--data-dir, $GANFORGE_DATA or download)",
    "stacked-mnist": "three random MNIST digits as R, G, B channels, 28x28, 1000 modes",
}
_FOLDER_DESC = "every image under PATH (recursive), resized and centre-cropped to --image-size "
_FOLDER_DESC += "(default 64), RGB or --channels 1"
_CROP = "--image-size is the random crop (default 256, of images loaded at 286)"
_TRANSLATION_SETS = {
    "facades": "CMP Facades (pix2pix), 400/100/106 photo (A) | label map (B) pairs; labels->photo "
    f"is --direction BtoA; {_CROP} (--data-dir, $GANFORGE_DATA or download)",
    "horse2zebra": "CycleGAN horses (A) and zebras (B), unpaired, train/test; "
    f"{_CROP} (--data-dir, $GANFORGE_DATA or download)",
    PAIRED_PREFIX + "PATH": f"your A|B pairs in PATH/{{train,val,test}}/ (or PATH/); {_CROP}",
    UNPAIRED_PREFIX + "PATH": f"your unpaired images in PATH/trainA, trainB, testA, testB; {_CROP}",
    "mnist-style": "unpaired MNIST digits (A) and bold, inverted digits (B) of disjoint halves, "
    "32x32 gray, labels kept: a quick translation task (shipped)",
}
_MULTIDOMAIN_SETS = {
    "celeba": "CelebA aligned faces with 40 binary attributes (StarGAN; official layout or the "
    "10k subset), central square resized to --image-size (default 128), train / test = the last "
    "10 % (--data-dir, $GANFORGE_DATA or the cache)",
    DOMAINS_PREFIX + "PATH": "your multi-domain images, one subfolder per domain (PATH/<domain>/, "
    "or PATH/{train,test}/<domain>/), single label (StarGAN)",
}
_PREPARED_DESC = ("data written by `ganforge prepare` (mnist, fashion-mnist, celeba, folder:PATH), "
                  "read from disk batch by batch; `--data NAME` picks up NAME's prepared data "
                  "for the same size from the cache by itself")

#: Everything `load_dataset` returns; all of them implement `TrainData`.
Dataset = InMemoryDataset | PairedImages | UnpairedImages | MultiDomainImages


def describe_datasets() -> list[tuple[str, str]]:
    """(name, one-line description) of every dataset, for `ganforge list`."""
    toys = [(name, desc) for name, (_, desc) in TOY_SETS.items()]
    return [*_IMAGE_SETS.items(), *toys, (FOLDER_PREFIX + "PATH", _FOLDER_DESC),
            *_TRANSLATION_SETS.items(), *_MULTIDOMAIN_SETS.items(),
            (PREPARED_PREFIX + "PATH", _PREPARED_DESC)]


def dataset_names() -> list[str]:
    """Every dataset name accepted by `load_dataset` (`folder:PATH` stands for any folder)."""
    return [name for name, _ in describe_datasets()]


def _check_split(name: str, split: str, valid: tuple[str, ...]) -> None:
    """One-line error for a split the dataset does not have."""
    if split not in valid:
        raise ConfigError(f"unknown split '{split}' for {name}; valid splits: {', '.join(valid)}")


def _load_idx_set(key: str, split: str, data_dir: str | None, seed: int) -> InMemoryDataset:
    """MNIST, Fashion-MNIST or Stacked MNIST at native size."""
    _check_split(key, split, idx.SPLITS)
    source = "mnist" if key == "stacked-mnist" else key
    images, labels = idx.load_idx(source, split, data_dir)
    if key == "stacked-mnist":
        images, labels = stack_digits(images, labels, seed=seed)
        return InMemoryDataset(key, images, labels, num_classes=NUM_MODES)
    return InMemoryDataset(key, images, labels, num_classes=idx.NUM_CLASSES)


def _check_direction(direction: str) -> None:
    """One-line error for a translation direction other than AtoB or BtoA."""
    if direction not in DIRECTIONS:
        raise ConfigError(f"unknown direction '{direction}'; choose from: {', '.join(DIRECTIONS)}")


def _load_mnist_style(split: str, image_size: int | None, channels: int | None,
                      direction: str) -> UnpairedImages:
    """The mnist-style task, whose size and channels are fixed."""
    _check_split("mnist-style", split, idx.SPLITS)
    if image_size not in (None, digit_styles.SIZE) or channels not in (None, 1):
        raise ConfigError(f"mnist-style images are {digit_styles.SIZE}x{digit_styles.SIZE} gray, "
                          f"uncropped; leave out --image-size ({image_size}) and --channels "
                          f"({channels}) or use {digit_styles.SIZE} and 1")
    return digit_styles.load_mnist_style(split, direction)


def _path_of(name: str, prefix: str) -> str:
    """The PATH of `prefix:PATH`, with a one-line error when it is empty."""
    path = name[len(prefix) :]
    if not path:
        raise ConfigError(f"{prefix} needs a path, e.g. {prefix}~/data/my-pairs")
    return path


def _load_translation(name: str, split: str, data_dir: str | None, image_size: int | None,
                      channels: int | None, direction: str) -> PairedImages | UnpairedImages:
    """A translation dataset (`name` is one of _TRANSLATION_SETS or a paired:/unpaired: path)."""
    ch = 3 if channels is None else channels
    if name == "mnist-style":
        return _load_mnist_style(split, image_size, channels, direction)
    if name.startswith(PAIRED_PREFIX):
        path = _path_of(name, PAIRED_PREFIX)
        return load_paired(path, split, direction, image_size, channels=ch, name=name)
    if name.startswith(UNPAIRED_PREFIX):
        path = _path_of(name, UNPAIRED_PREFIX)
        return load_unpaired(path, split, direction, image_size, channels=ch, name=name)
    _check_split(name, split, PAIRED_SPLITS if name == "facades" else UNPAIRED_SPLITS)
    root = archives.resolve_set(name, split, data_dir)
    if name == "facades":
        return load_paired(root, split, direction, image_size, channels=ch, name=name,
                           domains=("photo", "labels"))
    return load_unpaired(root, split, direction, image_size, channels=ch, name=name,
                         domains=("horse", "zebra"))


def load_dataset(
    name: str,
    *,
    split: str = "train",
    data_dir: str | None = None,
    image_size: int | None = None,
    channels: int | None = None,
    seed: int = 0,
    direction: str = "AtoB",
) -> Dataset:
    """Load a dataset by name; image options are ignored for point sets, `direction` (AtoB or
    BtoA: which domain is the generator's input) applies to translation data. Data prepared by
    `ganforge prepare` for these options is read from disk instead of memory."""
    _check_direction(direction)
    if name.startswith(PREPARED_PREFIX):
        check_image_options(image_size, channels)
        return open_prepared(_path_of(name, PREPARED_PREFIX), split, image_size, channels)
    prepared = find_prepared(name, split, data_dir, image_size, channels)
    if prepared is not None:
        return prepared
    if name.startswith(FOLDER_PREFIX):
        path = _path_of(name, FOLDER_PREFIX)
        _check_split(name, split, ("train",))
        return load_folder(path, image_size, channels, name=name)
    if name.startswith(DOMAINS_PREFIX):
        check_image_options(image_size, channels)
        return load_domains(_path_of(name, DOMAINS_PREFIX), split, image_size, channels)
    if name.startswith((PAIRED_PREFIX, UNPAIRED_PREFIX)):
        check_image_options(image_size, channels)
        return _load_translation(name, split, data_dir, image_size, channels, direction)
    key = name.strip().lower().replace("_", "-")
    if key in TOY_SETS:
        _check_split(key, split, idx.SPLITS)
        data = make_toy(key, seed=seed, stream=0 if split == "train" else TEST_STREAM)
        return InMemoryDataset(key, data, kind="points")
    if key in _IMAGE_SETS or key in _TRANSLATION_SETS or key in _MULTIDOMAIN_SETS:
        check_image_options(image_size, channels)
    if key == "celeba":
        return load_celeba(split, data_dir, image_size, channels)
    if key in _IMAGE_SETS:
        ds = _load_idx_set(key, split, data_dir, seed)
        ds.data = shape_images(ds.data, image_size, channels)
        return ds
    if key in _TRANSLATION_SETS:
        return _load_translation(key, split, data_dir, image_size, channels, direction)
    raise choices_error("dataset", name, dataset_names())
