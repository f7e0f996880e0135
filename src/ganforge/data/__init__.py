"""Datasets, held in memory as uint8, and the deterministic batch loader."""

from ganforge.data.batch import Batch
from ganforge.data.dataset import InMemoryDataset
from ganforge.data.loader import BatchLoader
from ganforge.data.registry import dataset_names, describe_datasets, load_dataset
from ganforge.data.toy import toy_modes

__all__ = [
    "Batch",
    "BatchLoader",
    "InMemoryDataset",
    "dataset_names",
    "describe_datasets",
    "load_dataset",
    "toy_modes",
]
