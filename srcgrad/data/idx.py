"""The idx file format of MNIST and Fashion-MNIST, and the datasets read from it.

An idx file (maybe gzipped) is: two zero bytes, a type byte (0x08 uint8, 0x09 int8,
0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), a byte giving the number of
dimensions, one big-endian uint32 per dimension, then the values, big-endian, in C order.

Nothing is downloaded: the files are read where Debian's ``dataset-fashion-mnist``
package installs them (``/usr/share/datasets/fashion-mnist``), or from a directory the
caller names.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from srcgrad.data.dataset import ArrayDataset
from srcgrad.data.errors import DataError

__all__ = ["read_idx", "fashion_mnist", "mnist", "digits", "FASHION_MNIST_DIR"]

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
MNIST_DIR = Path("/usr/share/datasets/mnist")
_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """The array an idx file holds (``.gz`` files are decompressed).

    Raises:
        DataError: a wrong magic number, or a file shorter or longer than its header
            says (the file named).
        FileNotFoundError: no file at ``path``.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise DataError(
            f"{path}: cannot be read ({err})", hint="the file is corrupt or cut short"
        ) from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise DataError(
            f"{path}: wrong magic number {raw[:4].hex() or '(empty file)'}: not an idx file",
            hint="idx files start with 00 00, a type byte (08 for uint8) and the "
            "number of dimensions",
        )
    dtype, ndim = _TYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(
            f"{path}: truncated in its header", hint="the file is cut short"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, offset=4))
    need = int(np.prod(shape)) * dtype.itemsize
    have = len(raw) - header
    if have != need:
        what = "truncated" if have < need else "longer than its header says"
        raise DataError(
            f"{path}: {what}: the header {shape} needs {need} bytes of data, the file "
            f"holds {have}",
            hint="the file is cut short or corrupt: reinstall it",
        )
    return (
        np.frombuffer(raw, dtype, offset=header)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
    )


def _find(directory: Path, stem: str, package: str | None) -> Path:
    for name in (stem + ".gz", stem):
        if (directory / name).is_file():
            return directory / name
    hint = (
        f"install the Debian package `{package}` (apt-get install {package}), or pass "
        "path= the directory holding the idx files"
        if package
        else "pass path= the directory holding the idx files"
    )
    raise FileNotFoundError(f"no {stem}(.gz) in {directory}; hint: {hint}")


def _labels_checked(labels: np.ndarray, path: Path, num_classes: int) -> np.ndarray:
    """Labels as int64, refusing NaN, fractional or out-of-range values (index named)."""
    if labels.ndim != 1:
        raise DataError(
            f"{path}: labels must be one-dimensional, got shape {labels.shape}"
        )
    bad = (
        ~np.isfinite(labels)
        if labels.dtype.kind == "f"
        else np.zeros(len(labels), bool)
    )
    with np.errstate(invalid="ignore"):
        bad |= (labels < 0) | (labels >= num_classes) | (labels != np.floor(labels))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}: label {labels[i]!r} at index {i} is not a class in [0, {num_classes})",
            hint="the labels file is corrupt",
        )
    return labels.astype(np.int64)


def _load(
    split: str,
    path: str | os.PathLike[str] | None,
    default: Path,
    package: str | None,
    class_subset: Sequence[int] | None,
) -> ArrayDataset:
    if split not in _FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    directory = default if path is None else Path(path)
    image_file = _find(directory, _FILES[split][0], package)
    label_file = _find(directory, _FILES[split][1], package)
    images = read_idx(image_file)
    labels = _labels_checked(read_idx(label_file), label_file, 10)
    if images.ndim != 3:
        raise DataError(
            f"{image_file}: images must be (N, rows, cols), got {images.shape}"
        )
    if len(images) != len(labels):
        raise DataError(
            f"{image_file} holds {len(images)} images but {label_file} holds "
            f"{len(labels)} labels",
            hint="the two files come from different splits or one is corrupt",
        )
    if class_subset is not None:
        keep = np.isin(labels, np.asarray(class_subset))
        images, labels = images[keep], labels[keep]
    x = (images[:, None, :, :].astype(np.float32)) / np.float32(255.0)
    return ArrayDataset(np.ascontiguousarray(x), labels)


def fashion_mnist(
    split: str = "train",
    path: str | os.PathLike[str] | None = None,
    class_subset: Sequence[int] | None = None,
) -> ArrayDataset:
    """Fashion-MNIST as ``(images, labels)``: float32 images ``(N, 1, 28, 28)`` in
    ``[0, 1]`` and int64 labels; 60000 training and 10000 test samples.

    Args:
        split: ``"train"`` or ``"test"``.
        path: a directory holding the idx(.gz) files (default: where the Debian package
            ``dataset-fashion-mnist`` installs them).
        class_subset: keep only these classes (labels unchanged): ``(0, 1, 2)`` gives
            the 3-class set of 18000 training images.

    Raises:
        FileNotFoundError: no files there (the message names the package).
        DataError: a corrupt file (named).
    """
    return _load(split, path, FASHION_MNIST_DIR, "dataset-fashion-mnist", class_subset)


def mnist(
    split: str = "train",
    path: str | os.PathLike[str] | None = None,
    class_subset: Sequence[int] | None = None,
) -> ArrayDataset:
    """MNIST digits from its idx files at ``path`` (default
    ``/usr/share/datasets/mnist``), as :func:`fashion_mnist` returns them."""
    return _load(split, path, MNIST_DIR, None, class_subset)


def digits() -> ArrayDataset:
    """scikit-learn's 8x8 digits (shipped with it, offline): float32 ``(1797, 1, 8,
    8)`` in ``[0, 1]`` and int64 labels.

    Raises:
        ImportError: scikit-learn is not installed.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise ImportError(
            "data.digits() reads the 8x8 digits that scikit-learn ships; hint: pip "
            "install scikit-learn"
        ) from err
    d = load_digits()
    x = (d.images.astype(np.float32) / np.float32(16.0))[:, None]
    return ArrayDataset(np.ascontiguousarray(x), d.target.astype(np.int64))
