"""A part of a container argument bound to a second name was treated as a constant: every
leaf read from it got a zero gradient (``for i, layer in enumerate(params): W, b = layer``).
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import container_parts_src as src

_R = np.random.default_rng(4)
LAYERS = [
    (_R.standard_normal((3, 4)), _R.standard_normal(4)),
    (_R.standard_normal((4, 2)), _R.standard_normal(2)),
]
X = _R.standard_normal((5, 3))
DICT = {
    "enc": {"W": _R.standard_normal((3, 4)), "b": _R.standard_normal(4)},
    "dec": {"W": _R.standard_normal((4, 2)), "b": _R.standard_normal(2)},
}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn",
    [
        src.enumerate_then_unpack,
        src.enumerate_last_layer_linear,
        src.enumerate_slice_then_index,
        src.tuple_unpack_then_alias,
    ],
    ids=lambda f: f.__name__,
)
@pytest.mark.parametrize("kind", [list, tuple], ids=["list", "tuple"])
def test_parts_of_a_list_argument_keep_their_gradients(fn, kind):
    params = kind(LAYERS)
    value, grads = srcgrad.value_and_grad(fn)(params, X)
    assert value == fn(params, X)
    assert all(np.any(g != 0) for layer in grads for g in layer)
    check_grad(fn, params, X)


def test_parts_of_a_dict_argument_keep_their_gradients():
    value, _ = srcgrad.value_and_grad(src.dict_parts_by_alias)(DICT, X)
    assert value == src.dict_parts_by_alias(DICT, X)
    check_grad(src.dict_parts_by_alias, DICT, X)


def test_zip_of_a_constant_list_and_layers_unrolls():
    """``zip([1.0, 0.5], params)``: the constants beside the container argument's items,
    one copy of the body per pair (it was refused at the loop)."""
    value, _ = srcgrad.value_and_grad(src.zip_with_constants)(LAYERS, X)
    assert value == src.zip_with_constants(LAYERS, X)
    check_grad(src.zip_with_constants, LAYERS, X)
