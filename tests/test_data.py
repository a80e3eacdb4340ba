"""srcgrad.data: the loader covers every sample once per epoch, reproducibly; datasets,
samplers, transforms; the idx readers on the real Fashion-MNIST files (skipped when the
Debian package is not installed) and on corrupt files."""

from __future__ import annotations

import gzip
import hashlib
import struct
import threading

import numpy as np
import pytest

from srcgrad import data


def _dataset(n=23):
    x = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    return data.ArrayDataset(x, np.arange(n))


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("prefetch", [0, 2])
def test_every_sample_once_per_epoch(shuffle, drop_last, prefetch):
    n, bs = 23, 5
    loader = data.DataLoader(
        _dataset(n),
        batch_size=bs,
        shuffle=shuffle,
        drop_last=drop_last,
        rng=7,
        prefetch=prefetch,
    )
    epochs = []
    for _ in range(2):
        seen = []
        for x, y in loader:
            assert x.dtype == np.float32 and x.flags.c_contiguous
            assert y.dtype == np.int64
            np.testing.assert_array_equal(x[:, 0], 2 * y)  # fields stay paired
            assert len(y) == bs or (not drop_last and len(y) == n % bs)
            seen.extend(y.tolist())
        assert len(seen) == len(loader) * bs - (0 if drop_last else bs - n % bs)
        assert len(set(seen)) == len(seen)
        if not drop_last:
            assert sorted(seen) == list(range(n))
        assert (seen == sorted(seen)) == (not shuffle)
        epochs.append(seen)
    if shuffle:
        assert epochs[0] != epochs[1]  # a new permutation each epoch
    else:
        assert epochs[0] == epochs[1]
    again = data.DataLoader(
        _dataset(n), batch_size=bs, shuffle=shuffle, drop_last=drop_last, rng=7
    )
    for want in epochs:  # the same rng seed gives the same epochs
        assert [int(i) for _, y in again for i in y] == want


def test_drop_last_leaves_out_exactly_the_short_batch():
    shuffled = data.DataLoader(
        _dataset(23), batch_size=5, shuffle=True, drop_last=True, rng=1
    )
    dropped = set(range(23)) - {int(i) for _, y in shuffled for i in y}
    assert len(dropped) == 3


def test_prefetch_raises_errors_from_the_thread_and_stops_early():
    class Bad(data.Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            if i == 7:
                raise KeyError("sample 7")
            return np.zeros(2), i

    with pytest.raises(KeyError, match="sample 7"):
        list(data.DataLoader(Bad(), batch_size=2, prefetch=1))
    before = threading.active_count()
    for _ in data.DataLoader(_dataset(100), batch_size=1, prefetch=2):
        break
    assert threading.active_count() <= before + 1


def test_subset_random_split_and_samplers():
    ds = _dataset(10)
    parts = data.random_split(ds, [0.5, 0.3, 0.2], rng=0)
    assert [len(p) for p in parts] == [5, 3, 2]
    idx = np.concatenate([p.indices for p in parts])
    assert sorted(idx.tolist()) == list(range(10))
    x, y = data.DataLoader(parts[1], batch_size=3).__iter__().__next__()
    np.testing.assert_array_equal(y, parts[1].indices)
    with pytest.raises(data.DataError, match="do not add up"):
        data.random_split(ds, [3, 3])
    w = data.WeightedRandomSampler([0, 1, 0, 3], num_samples=1000, rng=0)
    counts = np.bincount(w.indices(), minlength=4)
    assert counts[0] == counts[2] == 0 and 650 < counts[3] < 850
    r = data.RandomSampler(5, rng=3)
    assert sorted(r.indices().tolist()) == list(range(5))


def test_mismatched_lengths_are_named():
    with pytest.raises(data.DataError, match=r"\[3, 4\]"):
        data.ArrayDataset(np.zeros(3), np.zeros(4))


def test_transforms(rng):
    x = rng.random((6, 2, 5, 5)).astype(np.float32)
    out = data.normalize([0.5, 0.1], [2.0, 4.0])(x)
    np.testing.assert_allclose(out[:, 1], (x[:, 1] - 0.1) / 4.0, rtol=1e-6)
    oh = data.one_hot(np.array([2, 0]), 3)
    np.testing.assert_array_equal(oh, [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(data.DataError, match="index 1"):
        data.one_hot(np.array([0.0, np.nan]), 3)
    crop = data.random_crop(3, padding=1, rng=0)(x)
    assert crop.shape == (6, 2, 3, 3)
    padded = np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)])
    for i in range(6):  # each crop is a window of its own padded image
        hits = [
            (a, b)
            for a in range(5)
            for b in range(5)
            if np.array_equal(padded[i, :, a : a + 3, b : b + 3], crop[i])
        ]
        assert hits
    flipped = data.random_flip(p=1.0, rng=0)(x)
    np.testing.assert_array_equal(flipped, x[..., ::-1])
    np.testing.assert_array_equal(data.random_flip(p=0.0, rng=0)(x), x)


# ----------------------------------------------------------------------- idx files


def _idx(path, array, code=0x08, gz=True, cut=0):
    header = bytes([0, 0, code, array.ndim]) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    raw = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    raw = raw[: len(raw) - cut]
    (gzip.open if gz else open)(path, "wb").write(raw)


def _write_set(tmp_path, n_images=4, n_labels=4, labels=None, cut=0, magic=0x08):
    images = np.arange(n_images * 28 * 28, dtype=np.uint8).reshape(n_images, 28, 28)
    _idx(tmp_path / "t10k-images-idx3-ubyte.gz", images, code=magic, cut=cut)
    if labels is None:
        labels = np.arange(n_labels, dtype=np.uint8) % 10
    code = 0x0D if labels.dtype == np.float32 else 0x08
    _idx(tmp_path / "t10k-labels-idx1-ubyte", labels, code=code, gz=False)
    return images


def test_reads_idx_files_at_a_path(tmp_path):
    images = _write_set(tmp_path)
    ds = data.mnist("test", path=tmp_path)
    x, y = ds.arrays
    assert x.shape == (4, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 0], images.astype(np.float32) / 255)
    sub = data.mnist("test", path=tmp_path, class_subset=(1, 3))
    np.testing.assert_array_equal(sub.arrays[1], [1, 3])


def test_bad_files_give_errors_naming_the_file(tmp_path):
    _write_set(tmp_path, magic=0x42)
    with pytest.raises(data.DataError, match="t10k-images.*wrong magic"):
        data.mnist("test", path=tmp_path)
    _write_set(tmp_path, cut=5)
    with pytest.raises(data.DataError, match="t10k-images.*truncated"):
        data.mnist("test", path=tmp_path)
    _write_set(tmp_path, n_images=4, n_labels=3)
    with pytest.raises(data.DataError, match="4 images.*3 labels"):
        data.mnist("test", path=tmp_path)
    _write_set(tmp_path, labels=np.array([1, 2, np.nan, 0], dtype=np.float32))
    with pytest.raises(data.DataError, match="t10k-labels.*index 2"):
        data.mnist("test", path=tmp_path)
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        data.fashion_mnist("test", path=tmp_path / "nowhere")


FILES = data.idx.FASHION_MNIST_DIR
installed = pytest.mark.skipif(
    not (FILES / "t10k-images-idx3-ubyte.gz").is_file(),
    reason="the Debian package dataset-fashion-mnist is not installed",
)
# checksums of the decompressed pixel bytes, computed once from the real files
SHA256 = {
    "train": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
    "test": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
}
PIXEL_SUM = {"train": 3431114169, "test": 573469082}


def _check_split(split, n):
    ds = data.fashion_mnist(split)
    x, y = ds.arrays
    assert len(ds) == n and x.shape == (n, 1, 28, 28) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y, minlength=10), [n // 10] * 10)
    pixels = np.rint(x * 255).astype(np.uint8)
    assert int(pixels.sum(dtype=np.int64)) == PIXEL_SUM[split]
    assert hashlib.sha256(pixels.tobytes()).hexdigest() == SHA256[split]
    return ds


@installed
def test_the_real_fashion_mnist_test_split():
    ds = _check_split("test", 10000)
    x, y = next(iter(data.DataLoader(ds, batch_size=128, shuffle=True, rng=0)))
    assert x.shape == (128, 1, 28, 28) and y.shape == (128,)


@installed
@pytest.mark.slow
def test_the_real_fashion_mnist_train_split_and_its_three_classes():
    _check_split("train", 60000)
    three = data.fashion_mnist("train", class_subset=(0, 1, 2))
    assert len(three) == 18000 and set(np.unique(three.arrays[1])) == {0, 1, 2}


def test_scikit_learn_digits_when_installed():
    pytest.importorskip("sklearn")
    x, y = data.digits().arrays
    assert (
        x.shape == (1797, 1, 8, 8)
        and x.dtype == np.float32
        and 0 <= x.min() <= x.max() <= 1
    )
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))


def test_digits_without_scikit_learn_names_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="scikit-learn"):
        data.digits()


def test_batches_are_fetched_whole_not_sample_by_sample():
    class Counting(data.ArrayDataset):
        calls = 0

        def __getitem__(self, index):
            Counting.calls += 1
            return super().__getitem__(index)

    ds = Counting(np.zeros((50, 3)), np.arange(50))
    batches = list(data.DataLoader(ds, batch_size=8, shuffle=True, rng=0))
    assert Counting.calls == 0 and len(batches) == 7
    sub = data.Subset(ds, np.arange(10, 30))
    assert len(list(data.DataLoader(sub, batch_size=8))) == 3 and Counting.calls == 0
