"""``np.add.at(y, key, v)`` and ``np.subtract.at`` as statements: a write into ``y`` in
which repeated indices add up (numpy's ``y[key] += v`` keeps only the last one).  They
were refused with a hint (``y[indices] += values``) that, followed, changed the result
whenever an index repeats.  Each form is checked against central differences, and the
forward value against numpy's own ``add.at``."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import AliasError
from srcgrad.testing import check_grad


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


def repeated_1d(x):
    out = np.zeros(3)
    np.add.at(out, [0, 0, 2, 1], x)
    return np.sum(out**2)


def rows_and_pairs(x, w):
    h = np.zeros((3, 2))
    src = np.array([0, 1, 1, 2])
    np.add.at(h, src, x[:, None] * w)
    np.subtract.at(h, (np.array([0, 0]), np.array([1, 1])), x[:2] ** 2)
    return np.sum(np.tanh(h))


def message_passing(x, w):
    """A graph layer: each edge sends its source's features to its target."""
    src = np.array([0, 1, 2, 3, 0, 2])
    dst = np.array([1, 2, 3, 0, 2, 2])
    h = x
    for _ in range(2):
        agg = np.zeros_like(h)
        np.add.at(agg, dst, h[src] @ w)
        h = np.tanh(h + agg)
    return np.sum(h**2)


def broadcast_value(x):
    y = x * 1.0
    np.add.at(y, [1, 1, 3], np.sin(x[0]))
    return np.sum(y * np.arange(1.0, 1.0 + y.size))


def into_copy_of_argument(x):
    y = x.copy()
    np.add.at(y, [0, 0], x[1:3])
    return np.sum(np.exp(y))


@pytest.mark.parametrize(
    "f, shapes",
    [
        (repeated_1d, [(4,)]),
        (rows_and_pairs, [(4,), (4, 2)]),
        (message_passing, [(4, 3), (3, 3)]),
        (broadcast_value, [(5,)]),
        (into_copy_of_argument, [(4,)]),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_gradient_and_value(f, shapes):
    rng = np.random.default_rng(0)
    args = [rng.uniform(-0.8, 0.8, size=s) for s in shapes]
    for i in range(len(args)):
        check_grad(f, *args, wrt=i)
    value, _ = srcgrad.value_and_grad(f)(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)


def test_repeated_indices_add_up_in_the_emitted_forward():
    x = np.array([0.25, 0.5, -1.0, 2.0])
    out = np.zeros(3)
    np.add.at(out, [0, 0, 2, 1], x)
    _, g = srcgrad.value_and_grad(repeated_1d)(x)
    # d/dx_i sum(out**2) = 2 * out[index of x_i]: both entries at index 0 get it
    np.testing.assert_allclose(g, 2 * out[[0, 0, 2, 1]])


def _into_argument(x):
    np.add.at(x, [0, 0], 1.0)
    return np.sum(x**2)


def _into_argument__followed(x):
    x = x.copy()
    np.add.at(x, [0, 0], 1.0)
    return np.sum(x**2)


def test_into_an_argument_is_refused_with_a_hint_that_works():
    x = np.array([0.3, -0.2, 0.9])
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(_into_argument)(x)
    assert "test_ufunc_at.py:" in str(info.value)
    assert "x = x.copy()" in str(info.value)
    check_grad(_into_argument__followed, x)


def _into_view(x):
    y = x.copy()
    v = y[1:]
    np.add.at(v, [0, 0], 1.0)
    return np.sum(y * x)


def test_into_a_view_is_refused():
    with pytest.raises(srcgrad.SrcgradError, match="a view of 'y'"):
        srcgrad.grad(_into_view)(np.array([0.3, -0.2, 0.9]))


def _multiply_at(x):
    y = x.copy()
    np.multiply.at(y, [0, 0], 2.0)
    return np.sum(y)


def _multiply_at__followed(x):
    y = x.copy()
    for i, v in zip([0, 0], [2.0, 2.0]):
        y[i] = y[i] * v
    return np.sum(y)


def test_multiply_at_hint_followed_gives_numpy_s_result():
    x = np.array([0.3, -0.2, 0.9])
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(_multiply_at)(x)
    assert "for i, v in zip(indices, values): y[i] = y[i] * v" in str(info.value)
    assert _multiply_at__followed(x) == pytest.approx(_multiply_at(x))
    check_grad(_multiply_at__followed, x)


# --------------------------------------------------------------------------- fill_diagonal


def fill_diagonal_zero(Y):
    num = 1.0 / (1.0 + Y @ Y.T)
    np.fill_diagonal(num, 0.0)
    return np.sum(num**2)


def fill_diagonal_values(Y):
    A = Y @ Y.T
    np.fill_diagonal(A, Y[:, 0] * Y[:, 1])
    return np.sum(np.sin(A))


def fill_diagonal_tall(Y):
    A = Y * 2.0
    np.fill_diagonal(A, 1.0)
    return np.sum(A**3)


def fill_diagonal_argument(Y):
    np.fill_diagonal(Y, 0.0)
    return np.sum(Y**2)


@pytest.mark.parametrize(
    "fn", [fill_diagonal_zero, fill_diagonal_values, fill_diagonal_tall]
)
def test_fill_diagonal_is_a_write(fn):
    Y = np.random.default_rng(3).uniform(0.1, 1.0, (4, 2))
    value, grad = srcgrad.value_and_grad(fn)(Y.copy())
    assert value == fn(Y.copy())
    check_grad(fn, Y)


def test_fill_diagonal_of_an_argument_is_refused():
    with pytest.raises(AliasError) as info:
        srcgrad.grad(fill_diagonal_argument)(np.ones((3, 3)))
    assert "argument" in str(info.value) and info.value.hint
