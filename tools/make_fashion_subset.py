#!/usr/bin/env python
"""Build the Fashion-MNIST subset that ships with srcgrad (srcgrad/zoo/data/).

Reads Debian's ``dataset-fashion-mnist`` idx files and keeps, in their original order,
the first ``--train-per-class`` training images of each class and the first
``--test-per-class`` test images of each class, as uint8 arrays in one compressed
``.npz`` (``x_train (N, 28, 28)``, ``y_train (N,)``, ``x_test``, ``y_test``).  The
output is the same bytes for the same input files and counts.

Usage: python tools/make_fashion_subset.py [--src DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from srcgrad.data.idx import FASHION_MNIST_DIR, read_idx  # noqa: E402

OUT = (
    Path(__file__).resolve().parent.parent / "srcgrad/zoo/data/fashion_mnist_subset.npz"
)


def balanced(labels: np.ndarray, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` samples of each class, in file order."""
    keep = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(10)])
    return np.sort(keep)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """A compressed .npz whose bytes depend only on the arrays (fixed member dates)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(
                buf, np.ascontiguousarray(arr), allow_pickle=False
            )
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=FASHION_MNIST_DIR)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--train-per-class", type=int, default=500)
    ap.add_argument("--test-per-class", type=int, default=100)
    ns = ap.parse_args()
    arrays = {}
    for split, stem, per in (
        ("train", "train", ns.train_per_class),
        ("test", "t10k", ns.test_per_class),
    ):
        x = read_idx(ns.src / f"{stem}-images-idx3-ubyte.gz")
        y = read_idx(ns.src / f"{stem}-labels-idx1-ubyte.gz")
        keep = balanced(y, per)
        arrays[f"x_{split}"] = x[keep].astype(np.uint8)
        arrays[f"y_{split}"] = y[keep].astype(np.uint8)
    ns.out.parent.mkdir(parents=True, exist_ok=True)
    write_npz(ns.out, arrays)
    sizes = ", ".join(f"{k} {v.shape}" for k, v in arrays.items())
    print(f"wrote {ns.out} ({ns.out.stat().st_size} bytes): {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
