"""Shape rules beyond the registry's grids: memory layouts (``order="A"``/``"K"``), random
permutations, unequal pieces, unused and overlapping ``split`` pieces, tiles, repeats, pads.

Every gradient is checked against central differences, never against hard-coded values.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from srcgrad.rules import lookup
from srcgrad.rules.registry import numpy_at_least
from tests.rules._checks import FEW, check, check_rule, normal
from tests.rules._checks import _cache_dir  # noqa: F401  (an autouse fixture)

LAYOUTS = {
    "c": lambda b: b,
    "fortran": np.asfortranarray,
    "transposed-reversed": lambda b: b.transpose(2, 0, 1)[:, ::-1],
    "strided-transposed": lambda b: b[:, ::2].T,
    "negative-strides": lambda b: b[::-1, :, ::2],
    "unit-axis": lambda b: b[:, :1, ::2].transpose(1, 2, 0),
    "fortran-matrix": lambda b: np.asfortranarray(b[0]),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(
    "prim, order",
    [(np.ravel, o) for o in "CFAK"] + [(np.reshape, o) for o in "CFA"],
    ids=lambda p: getattr(p, "__name__", p),
)
def test_reshape_and_ravel_orders_follow_the_memory_layout(layout, prim, order):
    # order "A"/"K" depends on the operand's memory layout, which check_adjoint's perturbed
    # copies would not keep: perturb the base array and take the same view of it instead
    view = LAYOUTS[layout]
    rng = np.random.default_rng(0)
    base = rng.standard_normal((4, 6, 8))
    extra = () if prim is np.ravel else ((2, -1),)
    x = view(base)
    ans = prim(x, *extra, order=order)
    g = rng.standard_normal(ans.shape)
    d = lookup(prim).adjoint(g, ans, x, *extra, order=order)
    assert d.shape == x.shape and d.dtype == x.dtype
    eps = 1e-6
    for _ in range(3):
        v = rng.standard_normal(base.shape)
        plus = prim(view(base + eps * v), *extra, order=order)
        minus = prim(view(base - eps * v), *extra, order=order)
        numeric = np.sum(g * (plus - minus)) / (2 * eps)
        np.testing.assert_allclose(np.sum(d * view(v)), numeric, rtol=1e-6, atol=1e-6)


@FEW
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4),
    data=st.data(),
    seed=st.integers(0, 2**16),
)
def test_transpose_moveaxis_swapaxes_on_random_permutations(shape, data, seed):
    x = normal(np.random.default_rng(seed), shape)
    nd = len(shape)
    perm = data.draw(st.permutations(range(nd)))
    signs = data.draw(st.lists(st.booleans(), min_size=nd, max_size=nd))
    check(np.transpose, x, axes=tuple(p - nd if s else p for p, s in zip(perm, signs)))
    src = data.draw(
        st.lists(st.integers(-nd, nd - 1), unique_by=lambda a: a % nd, max_size=nd)
    )
    dst = data.draw(
        st.lists(
            st.integers(-nd, nd - 1),
            unique_by=lambda a: a % nd,
            min_size=len(src),
            max_size=len(src),
        )
    )
    check(np.moveaxis, x, src, dst)
    check(
        np.swapaxes,
        x,
        data.draw(st.integers(-nd, nd - 1)),
        data.draw(st.integers(0, nd - 1)),
    )


@FEW
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=1, max_dims=3, max_side=4),
    lead=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_broadcast_to_with_new_leading_axes(shapes, lead, seed):
    x = normal(np.random.default_rng(seed), shapes.input_shapes[0])
    check(np.broadcast_to, x, lead + shapes.result_shape)


@pytest.mark.parametrize(
    "shapes, axis",
    [
        ([(2, 3), (4, 3), (1, 3)], 0),
        ([(2, 3), (2, 1), (2, 5)], -1),
        ([(2, 3), (5,), (1, 1, 2)], None),
        ([(0, 3), (2, 3)], 0),
    ],
)
def test_concatenate_unequal_pieces(shapes, axis):
    rng = np.random.default_rng(0)
    check(np.concatenate, [normal(rng, s) for s in shapes], axis=axis)
    check(np.concatenate, [normal(rng, s, np.float32) for s in shapes], axis=axis)


def test_concatenate_and_stack_keep_each_operand_dtype():
    a, b = np.ones((2, 3)), np.ones((2, 3), np.float32)
    for prim in (np.concatenate, np.stack):
        ans = prim([a, b])
        da, db = lookup(prim).adjoint(np.ones(ans.shape), ans, [a, b])
        assert (da.dtype, db.dtype) == (np.float64, np.float32)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_stack_non_contiguous(axis):
    rng = np.random.default_rng(0)
    check(np.stack, [normal(rng, (2, 6))[:, ::2], normal(rng, (2, 3))[::-1]], axis=axis)


@pytest.mark.parametrize(
    "prim, shape, sections, axis",
    [
        (np.split, (6, 4), [2, 2, 5], 0),
        (np.split, (6, 4), [3, 1], 0),  # decreasing indices: the pieces overlap
        (np.split, (6, 4), [-2], 0),
        (np.split, (6, 4), 2, 1),
        (np.array_split, (7, 4), 3, 0),
        (np.array_split, (3, 4), 5, 0),  # more pieces than rows: empty pieces
        (np.array_split, (3, 5), [1, 9], -1),
    ],
)
def test_split_pieces_including_unused_ones(prim, shape, sections, axis):
    # check_adjoint also gives every piece but one a None cotangent
    rng = np.random.default_rng(0)
    check(prim, normal(rng, shape), sections, axis=axis)
    check(prim, normal(rng, shape, np.float32), sections, axis=axis)


def test_split_all_pieces_unused_gives_zeros():
    x = np.ones((4, 2), np.float32)
    pieces = np.split(x, 2)
    d = lookup(np.split).adjoint([None, None], pieces, x, 2)
    assert d.shape == x.shape and d.dtype == x.dtype and not d.any()


@pytest.mark.parametrize("reps", [2, (2,), (2, 1, 3), (1, 1, 1, 2), (), (3, 1)])
@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 1, 3)])
def test_tile_reps_shorter_and_longer_than_ndim(shape, reps):
    check(np.tile, normal(np.random.default_rng(0), shape), reps)


@pytest.mark.parametrize(
    "repeats, axis",
    [
        ([1, 0, 2], 0),
        ([2, 1, 0, 3], 1),
        (np.array([1, 2, 0, 1, 1, 3, 0, 2, 1, 1, 1, 1]), None),
        (3, None),
        (0, 1),
        (np.array([2]), 0),
        ([0, 0, 0], 0),
        (2, -1),
    ],
)
def test_repeat_with_int_and_array_repeats(repeats, axis):
    rng = np.random.default_rng(0)
    check(np.repeat, normal(rng, (3, 4)), repeats, axis=axis)
    check(np.repeat, normal(rng, (3, 8), np.float32)[:, ::2], repeats, axis=axis)


@pytest.mark.parametrize(
    "prim, shape, args, params",
    [
        (np.squeeze, (1, 1), (), {}),
        (np.squeeze, (1, 3, 1), (), {"axis": 0}),
        (np.expand_dims, (3,), ((0, -1),), {}),
        (np.reshape, (2, 3, 4), ((4, -1),), {}),
        (np.reshape, (2, 3, 4), ((-1,),), {}),
        (np.broadcast_to, (), ((2, 3),), {}),
    ]
    + [(getattr(np, "matrix_transpose", None), (2, 3, 4), (), {})]
    * numpy_at_least("2.0.0")
    + [(np.reshape, (2, 3, 4), (), {"shape": (-1,)})] * numpy_at_least("2.1.0"),
)
def test_small_shape_cases(prim, shape, args, params):
    x = normal(np.random.default_rng(0), shape)
    check(prim, x, *args, **params)


def test_pad_modes_on_three_axes():
    rng = np.random.default_rng(27)
    x = rng.standard_normal((2, 3, 4))
    for mode in [
        "edge",
        "wrap",
        "reflect",
        "symmetric",
        "mean",
        "maximum",
        "median",
        "linear_ramp",
    ]:
        check_rule(np.pad, x, ((1, 2), (0, 1), (3, 0)), mode=mode)
    check_rule(np.pad, x, 7, mode="symmetric")
    check_rule(np.pad, x, ((1, 0), (2, 1), (0, 2)), mode="reflect", reflect_type="odd")
    check_rule(np.pad, x, 2, mode="minimum", stat_length=((1, 2), (2, 1), (3, 3)))
