"""srcgrad.data: datasets, samplers, a batch loader, batch transforms, and the idx
files of Fashion-MNIST and MNIST read from disk (never downloaded)."""

from srcgrad.data.dataset import ArrayDataset, Dataset, Subset, random_split
from srcgrad.data.errors import DataError
from srcgrad.data.idx import digits, fashion_mnist, mnist, read_idx
from srcgrad.data.loader import DataLoader, to_float32
from srcgrad.data.samplers import (
    RandomSampler,
    Sampler,
    SequentialSampler,
    WeightedRandomSampler,
)
from srcgrad.data.transforms import (
    compose,
    normalize,
    one_hot,
    random_crop,
    random_flip,
)

__all__ = [
    "ArrayDataset",
    "DataError",
    "DataLoader",
    "Dataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "WeightedRandomSampler",
    "compose",
    "digits",
    "fashion_mnist",
    "mnist",
    "normalize",
    "one_hot",
    "random_crop",
    "random_flip",
    "random_split",
    "read_idx",
    "to_float32",
]
