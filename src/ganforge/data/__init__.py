"""Datasets, held in memory as uint8, and the deterministic batch loader."""

from ganforge.data.batch import Batch
from ganforge.data.dataset import InMemoryDataset
from ganforge.data.loader import BatchLoader
from ganforge.data.registry import dataset_names, describe_datasets, load_dataset
from ganforge.data.toy import toy_modes
from ganforge.data.translation import PairedImages, UnpairedImages

__all__ = [
    "Batch",
    "BatchLoader",
    "InMemoryDataset",
    "PairedImages",
    "UnpairedImages",
    "dataset_names",
    "describe_datasets",
    "load_dataset",
    "toy_modes",
]
