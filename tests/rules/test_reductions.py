"""Reduction rules beyond the registry's grids: random shapes and axes (hypothesis), zeros in
``prod``, ties in ``max``/``min``, numpy's positional order, complex inputs.

Every gradient is checked against central differences, never against hard-coded values.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from srcgrad.rules import lookup
from tests.rules._checks import FEW, check, check_complex, crandn, normal
from tests.rules._checks import _cache_dir  # noqa: F401  (an autouse fixture)


@st.composite
def shape_and_axis(draw, min_dims=0):
    shape = draw(
        hnp.array_shapes(min_dims=min_dims, max_dims=4, min_side=1, max_side=4)
    )
    ndim = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"] if ndim else ["none"]))
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-ndim, ndim - 1))
    else:
        axes = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim))
        signs = draw(st.lists(st.booleans(), min_size=len(axes), max_size=len(axes)))
        axis = tuple(a - ndim if neg else a for a, neg in zip(axes, signs))
    return shape, axis


def group_size(shape, axis):
    if axis is None:
        return int(np.prod(shape))
    axes = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axes]))


@pytest.mark.parametrize("prim", [np.sum, np.mean, np.prod, np.max, np.min, np.amax])
@FEW
@given(case=shape_and_axis(), keepdims=st.booleans(), seed=st.integers(0, 2**16))
def test_reductions_over_random_axes(prim, case, keepdims, seed):
    shape, axis = case
    x = normal(np.random.default_rng(seed), shape)
    check(prim, x, seed=seed, axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("prim", [np.var, np.std])
@FEW
@given(
    case=shape_and_axis(),
    keepdims=st.booleans(),
    ddof=st.sampled_from([0, 1]),
    seed=st.integers(0, 2**16),
)
def test_var_and_std_over_random_axes(prim, case, keepdims, ddof, seed):
    shape, axis = case
    assume(group_size(shape, axis) > 1)  # std has no derivative where it is 0
    x = normal(np.random.default_rng(seed), shape)
    check(prim, x, seed=seed, axis=axis, keepdims=keepdims, ddof=ddof)


@FEW
@given(
    case=shape_and_axis(min_dims=1), keepdims=st.booleans(), seed=st.integers(0, 2**16)
)
def test_prod_is_exact_with_zeros(case, keepdims, seed):
    shape, axis = case
    rng = np.random.default_rng(seed)
    x = normal(rng, shape)
    x[rng.random(shape) < 0.3] = 0.0  # groups with one zero, several zeros, or none
    check(np.prod, x, seed=seed, axis=axis, keepdims=keepdims)


@pytest.mark.parametrize(
    "x, axis",
    [
        (np.array([2.0, 0.0, 3.0]), None),
        (np.array([[1.5, 0.0, -2.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]]), 1),
        (np.array([[1.5, 0.0, -2.0], [0.0, 0.0, 4.0]]), 0),
        (np.array([[0.0, 1.0], [2.0, 3.0]]), (0, 1)),
    ],
)
def test_prod_with_one_or_two_zeros_in_a_group(x, axis):
    check(np.prod, x, axis=axis)
    g = np.ones(np.prod(x, axis=axis).shape)
    assert np.all(
        np.isfinite(lookup(np.prod).adjoint(g, np.prod(x, axis=axis), x, axis))
    )


@pytest.mark.parametrize("prim", [np.max, np.min])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_max_min_share_ties_evenly(prim, axis):
    # ties are not differentiable, so this checks the documented choice by its properties:
    # non-extremal entries get nothing, tied ones get equal shares, each group's shares add
    # up to its cotangent
    x = np.array([[3.0, 1.0, 3.0], [-2.0, -2.0, 0.5], [1.0, 1.0, 1.0]])
    ans = prim(x, axis=axis, keepdims=True)
    g = np.random.default_rng(0).standard_normal(ans.shape)
    d = lookup(prim).adjoint(g, ans, x, axis=axis, keepdims=True)
    hits = x == ans
    np.testing.assert_array_equal(d[~hits], 0.0)
    np.testing.assert_allclose(np.sum(d, axis=axis, keepdims=True), g)
    shares = np.broadcast_to(g / np.sum(hits, axis=axis, keepdims=True), x.shape)
    np.testing.assert_allclose(d[hits], shares[hits])


@pytest.mark.parametrize("prim", [np.sum, np.mean, np.prod, np.var, np.std, np.max])
def test_reductions_accept_numpy_positional_order_and_dtype(prim):
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    check(prim, x, 1)  # axis positionally
    if prim is not np.max:
        check(prim, x, 0, np.float64, keepdims=True)  # dtype positionally
        d = lookup(prim).adjoint(np.ones(4), prim(x, 0, np.float64), x, 0, np.float64)
        assert d.dtype == np.float32


@pytest.mark.parametrize("prim", [np.sum, np.mean, np.prod, np.cumsum, np.cumprod])
def test_reductions_and_scans_on_complex_inputs(prim):
    rng = np.random.default_rng(5)
    check_complex(prim, [crandn(rng, 3, 4)], {"axis": 0})
