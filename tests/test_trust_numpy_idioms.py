"""Idioms of published numpy programs that srcgrad got wrong, crashed on or refused (found by
the third batch of tests/realworld):

* ``q, p = np.copy(q), np.copy(p)`` then ``p -= v`` was refused as a write into a view:
  a name unpacked from a display item that is a new array nothing else holds is no view;
* ``np.asarray`` had no rule; ``np.array(x[0])`` of one scalar raised TypeError in the
  backward;
* ``np.maximum.accumulate`` (and minimum, add, multiply) was refused;
* ``np.logaddexp`` / ``logaddexp2`` / ``logsumexp`` of operands all ``-inf`` (the
  unreachable cells of a forward-algorithm table) gave a nan gradient;
* a leaf of a container argument read inside one branch only: the other branch's zero
  cotangent read a name only the first bound (TypeError in the backward);
* ``zip(constants, params)`` over a container argument was refused."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import SrcgradError
from srcgrad.testing import check_grad
from tests.trust import numpy_idioms_src as src


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


def _vectors():
    rng = np.random.default_rng(3)
    return rng.standard_normal(6), [0, 3, 1, 2, 5, 4]


@pytest.mark.parametrize(
    "fn",
    [
        src.asarray_of_argument,
        src.asarray_of_scalars,
        src.array_of_one_scalar,
        src.running_extremes,
        src.drawdown,
        src.ufunc_scans,
        src.logaddexp_of_unreachable,
        src.logsumexp_of_unreachable_row,
    ],
    ids=lambda f: f.__name__,
)
def test_vector_idiom_gradient(fn):
    x, idx = _vectors()
    value, g = srcgrad.value_and_grad(fn)(x.copy(), idx)
    assert value == fn(x.copy(), idx)
    assert np.all(np.isfinite(g))
    check_grad(fn, x, idx)


@pytest.mark.parametrize(
    "fn",
    [src.unpacked_copies_written, src.unpacked_method_copies_written],
    ids=lambda f: f.__name__,
)
def test_unpacked_copies_may_be_written_in_place(fn):
    rng = np.random.default_rng(4)
    q, p = rng.standard_normal(3), rng.standard_normal(3)
    q0, p0 = q.copy(), p.copy()
    value, _ = srcgrad.value_and_grad(fn, wrt=(0, 1))(q, p)
    assert value == fn(q0.copy(), p0.copy())
    np.testing.assert_array_equal(q, q0)
    np.testing.assert_array_equal(p, p0)
    check_grad(fn, q, p, wrt=(0, 1))


@pytest.mark.parametrize(
    "fn, args",
    [
        (src.unpacked_view_written, (np.ones(3), np.ones(3))),
        (src.asarray_of_argument_written, (np.ones(3), [0])),
    ],
    ids=["unpacked_view", "asarray_of_argument"],
)
def test_writes_into_the_callers_array_stay_refused(fn, args):
    with pytest.raises(SrcgradError, match="op= ...|a view of an argument"):
        srcgrad.grad(fn)(*args)


def _params(n):
    rng = np.random.default_rng(5)
    return [{"W": rng.standard_normal((3, 3))} for _ in range(n)]


@pytest.mark.parametrize(
    "fn",
    [src.leaf_read_in_one_branch, src.leaves_read_in_branches_of_a_loop],
    ids=lambda f: f.__name__,
)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_leaf_read_in_one_branch(fn, sign):
    params, x = _params(2), sign * np.abs(np.random.default_rng(6).standard_normal(3))
    value, _ = srcgrad.value_and_grad(fn)(params, x)
    assert value == fn(params, x)
    check_grad(fn, params, x)


@pytest.mark.parametrize(
    "fn, n",
    [(src.zip_constants_with_layers, 3), (src.zip_objects_with_layers, 3)],
    ids=["constants", "objects"],
)
def test_zip_of_a_sequence_and_a_container_argument(fn, n):
    params, x = _params(n), np.random.default_rng(7).standard_normal(3)
    value, _ = srcgrad.value_and_grad(fn)(params, x)
    assert value == fn(params, x)
    check_grad(fn, params, x)
