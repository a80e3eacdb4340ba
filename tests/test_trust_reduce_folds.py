"""``functools.reduce(f, items[, initial])`` with ``f`` reached by name: ``reduce(np.kron,
[gates])`` builds a quantum layer operator (found by
``tests/realworld/vqe_statevector_kron.py``), ``reduce(np.dot, mats)`` a chain product.
It was refused ("call to reduce, which srcgrad cannot differentiate") even when ``f`` had a
rule; it now runs as the loop it stands for.  A lambda fold is still refused at its
line."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import reduce_folds_src as src

RS = np.random.RandomState(7)
X = RS.randn(3, 2)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn, x",
    [
        (src.kron_of_comprehension, X[:, 0]),
        (src.user_function_with_initial, X),
        (src.rows_of_an_array, X),
        (src.of_a_generator, X[:, 1]),
        (src.display_of_one, X[:, 0]),
        (src.display_then_grown, X[:, 0]),
        (src.in_a_loop_and_a_branch, X[:, 1]),
    ],
    ids=lambda v: getattr(v, "__name__", "x"),
)
def test_folds_by_name(fn, x):
    value, _ = srcgrad.value_and_grad(fn)(x)
    assert value == fn(x)
    check_grad(fn, x)


def test_a_chain_product_of_a_list_argument():
    mats = [RS.randn(2, 2) for _ in range(3)]
    v = RS.randn(2)
    value, _ = srcgrad.value_and_grad(src.dot_of_list_argument, wrt=(0, 1))(mats, v)
    assert value == src.dot_of_list_argument(mats, v)
    check_grad(src.dot_of_list_argument, mats, v, wrt=(0, 1))


def test_a_lambda_fold_is_still_refused_at_its_line():
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.lambda_fold)(X[:, 0])
    assert all(e.lineno == 58 for e in info.value.errors), str(info.value)
