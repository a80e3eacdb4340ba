"""The data sets the zoo trains on, with nothing but pip: Fashion-MNIST from Debian's
``dataset-fashion-mnist`` (or a directory named with ``--data``) when it is there, else
the subset shipped in ``srcgrad/zoo/data``; scikit-learn's 8x8 digits where
scikit-learn is installed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from srcgrad import data
from srcgrad.data.idx import FASHION_MNIST_DIR

__all__ = ["Splits", "SUBSET_FILE", "digits_splits", "fashion_mnist_splits"]

SUBSET_FILE = Path(__file__).resolve().parent / "data" / "fashion_mnist_subset.npz"
DIGITS_TEST = 360  # the last 360 of a fixed shuffle of the 1797 digits are the test set


class Splits(NamedTuple):
    """A training set, a test set, and where they came from (one line)."""

    train: data.ArrayDataset
    test: data.ArrayDataset
    source: str


def _images(x: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) as float32 (N, 1, 28, 28) in [0, 1]."""
    return np.ascontiguousarray(x[:, None].astype(np.float32) / np.float32(255.0))


def _keep(ds: data.ArrayDataset, classes: Sequence[int] | None) -> data.ArrayDataset:
    if classes is None:
        return ds
    x, y = ds.arrays
    keep = np.isin(y, np.asarray(classes))
    return data.ArrayDataset(x[keep], y[keep])


def _shipped_subset(classes: Sequence[int] | None) -> Splits:
    with np.load(SUBSET_FILE, allow_pickle=False) as z:
        train = data.ArrayDataset(_images(z["x_train"]), z["y_train"].astype(np.int64))
        test = data.ArrayDataset(_images(z["x_test"]), z["y_test"].astype(np.int64))
    source = (
        f"the Fashion-MNIST subset shipped with srcgrad ({len(train)} training, "
        f"{len(test)} test images; install Debian's dataset-fashion-mnist or pass "
        "--data DIR for the full set)"
    )
    return Splits(_keep(train, classes), _keep(test, classes), source)


def fashion_mnist_splits(
    path: str | os.PathLike[str] | None = None,
    classes: Sequence[int] | None = None,
) -> Splits:
    """Fashion-MNIST's training and test sets (only ``classes`` where given): from
    ``path`` when given, else from Debian's files when installed, else the shipped
    subset.

    Raises:
        FileNotFoundError: ``path`` holds no idx files.
    """
    if path is None and not (FASHION_MNIST_DIR / "t10k-labels-idx1-ubyte.gz").is_file():
        return _shipped_subset(classes)
    where = FASHION_MNIST_DIR if path is None else Path(path)
    train = data.fashion_mnist("train", path=where, class_subset=classes)
    test = data.fashion_mnist("test", path=where, class_subset=classes)
    source = (
        f"the full Fashion-MNIST in {where} ({len(train)} training, {len(test)} test)"
    )
    return Splits(train, test, source)


def digits_splits(
    path: str | os.PathLike[str] | None = None,
    classes: Sequence[int] | None = None,
) -> Splits:
    """scikit-learn's 8x8 digits, split by a fixed shuffle into 1437 training and 360
    test images.

    Raises:
        ImportError: scikit-learn is not installed.
        ValueError: ``path`` was given (the data ship with scikit-learn).
    """
    if path is not None:
        raise ValueError("the digits ship with scikit-learn; --data does not apply")
    x, y = data.digits().arrays
    order = np.random.default_rng(0).permutation(len(y))
    train, test = order[:-DIGITS_TEST], order[-DIGITS_TEST:]
    source = f"scikit-learn's 8x8 digits ({len(train)} training, {len(test)} test)"
    return Splits(
        _keep(data.ArrayDataset(x[train], y[train]), classes),
        _keep(data.ArrayDataset(x[test], y[test]), classes),
        source,
    )


def example_batch() -> tuple[np.random.Generator, np.ndarray, np.ndarray]:
    """(rng, x, labels): four random 1x28x28 float32 images and labels, the batch the
    Fashion-MNIST models' ``example()`` builders specialise their gradients on (the rng
    then initialises the model)."""
    rng = np.random.default_rng(0)
    return rng, rng.random((4, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 4)
