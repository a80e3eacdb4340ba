"""Rule tests that the registry-driven suite cannot express.

The reduction, shape and linalg rules declare ``shapes``/``params`` grids for the generated
tests.  This file adds what a fixed grid cannot say: random shapes and axes (hypothesis),
1-D and broadcast-batched ``matmul``, every rank combination of ``np.dot``/``np.inner``,
einsum forms (traces, diagonals, ellipses, implicit output, three operands), memory layouts
(``order="A"``/``"K"``), unequal pieces, unused and overlapping ``split`` pieces, zeros in
``prod`` and ties in ``max``/``min``.  Every gradient is checked against central differences
(``check_adjoint``), never against hard-coded values.
"""

from __future__ import annotations

import types

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from srcgrad.rules.registry import numpy_at_least
from srcgrad.rules import lookup, registry
from srcgrad.testing import check_adjoint

FEW = settings(max_examples=20, deadline=None)


def check(prim, *inputs, seed=0, **params):
    """check_adjoint on the registered rule of ``prim`` (float64 identity, shapes, dtypes)."""
    rule = lookup(prim)
    assert rule is not None, f"no rule for {prim}"
    check_adjoint(prim, rule.adjoint, list(inputs), params, np.random.default_rng(seed), rule=rule)


def normal(rng, shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


# --------------------------------------------------------------------------- reductions


@st.composite
def shape_and_axis(draw, min_dims=0):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=4, min_side=1, max_side=4))
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
@given(case=shape_and_axis(min_dims=1), keepdims=st.booleans(), seed=st.integers(0, 2**16))
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
    assert np.all(np.isfinite(lookup(np.prod).adjoint(g, np.prod(x, axis=axis), x, axis)))


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


# --------------------------------------------------------------------------- matmul and friends


@FEW
@given(
    shapes=hnp.mutually_broadcastable_shapes(
        signature=np.matmul.signature, max_dims=3, min_side=1, max_side=4
    ),
    seed=st.integers(0, 2**16),
    f32=st.booleans(),
)
def test_matmul_on_vectors_matrices_and_broadcast_batches(shapes, seed, f32):
    rng = np.random.default_rng(seed)
    dtype = np.float32 if f32 else np.float64
    x1, x2 = (normal(rng, s, dtype) for s in shapes.input_shapes)
    check(np.matmul, x1, x2, seed=seed)


@pytest.mark.parametrize(
    "s1, s2",
    [((5,), (2, 3, 5, 4)), ((2, 3, 5, 4), (4,)), ((3, 1, 2, 4), (1, 5, 4, 2)), ((6,), (6,))],
)
def test_matmul_with_non_contiguous_operands(s1, s2):
    rng = np.random.default_rng(0)
    x1 = normal(rng, s1[:-1] + (2 * s1[-1],))[..., ::2]
    x2 = normal(rng, s2)[..., ::-1]
    check(np.matmul, x1, x2)


def test_matmul_mixed_precision_cotangents_keep_each_dtype():
    rng = np.random.default_rng(0)
    x1, x2 = normal(rng, (3, 4), np.float32), normal(rng, (4,))
    d1, d2 = lookup(np.matmul).adjoint(np.ones(3), x1 @ x2, x1, x2)
    assert (d1.dtype, d2.dtype) == (np.float32, np.float64)


RANK_PAIRS = [(p, q) for p in range(4) for q in range(4)]


def _dot_shapes(p, q, k=3):
    a = (2, 4, 5)[: max(p - 1, 0)] + ((k,) if p else ())
    if q == 0:
        return a, ()
    if q == 1:
        return a, (k,)
    return a, (3, 2)[: q - 2] + (k, 4)


@pytest.mark.parametrize("p, q", RANK_PAIRS)
def test_dot_for_every_rank_pair(p, q):
    sa, sb = _dot_shapes(p, q)
    rng = np.random.default_rng(p * 4 + q)
    check(np.dot, normal(rng, sa), normal(rng, sb))
    check(np.dot, normal(rng, sa, np.float32), normal(rng, sb, np.float32))


@pytest.mark.parametrize("p, q", RANK_PAIRS)
def test_inner_for_every_rank_pair(p, q):
    sa = (2, 4, 5)[: max(p - 1, 0)] + ((3,) if p else ())
    sb = (4, 2, 5)[: max(q - 1, 0)] + ((3,) if q else ())
    rng = np.random.default_rng(p * 4 + q)
    check(np.inner, normal(rng, sa), normal(rng, sb))


@pytest.mark.parametrize(
    "sa, sb, axes",
    [
        ((2, 3, 4), (3, 4, 5), 2),
        ((2, 3, 4), (4, 3, 2), ([0, 1, 2], [2, 1, 0])),
        ((2, 3), (3, 2), ([1, 0], [0, 1])),
        ((3,), (3,), 1),
        ((2, 3), (3, 4), [[-1], [0]]),
        ((2, 3), (4,), 0),
        ((2, 5, 3), (3, 4, 5), ([1, -1], [2, 0])),
    ],
)
def test_tensordot_axes_forms(sa, sb, axes):
    rng = np.random.default_rng(0)
    check(np.tensordot, normal(rng, sa), normal(rng, sb), axes=axes)


@pytest.mark.parametrize("sa, sb", [((3,), (4,)), ((2, 3), (2, 2)), ((), ()), ((2, 1), ())])
def test_outer_flattens_its_operands(sa, sb):
    rng = np.random.default_rng(0)
    check(np.outer, normal(rng, sa), normal(rng, sb))
    check(np.outer, normal(rng, sa, np.float32), normal(rng, sb))


# --------------------------------------------------------------------------- einsum

EINSUM_FORMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output
    ("ii->", [(3, 3)]),  # trace
    ("ii", [(3, 3)]),  # implicit trace
    ("ii->i", [(3, 3)]),  # diagonal
    ("iii->", [(3, 3, 3)]),
    ("iij->j", [(3, 3, 4)]),
    ("iij->ij", [(3, 3, 4)]),
    ("ii,i->i", [(3, 3), (3,)]),
    ("bii->bi", [(2, 3, 3)]),
    ("ij->", [(3, 4)]),  # summed out in this operand only
    ("ij->j", [(3, 4)]),
    ("ij,ij->", [(2, 3), (2, 3)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),  # einsum broadcasts size-1 labelled axes
    ("i,i", [(3,), (3,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij,kl->ijkl", [(2, 3), (1, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ij,jk,kl", [(2, 3), (3, 4), (4, 5)]),
    ("Ab,bC", [(2, 3), (3, 4)]),  # implicit output sorts upper case first
    ("bA,Ab", [(2, 3), (3, 2)]),
    ("ji", [(3, 4)]),
    ("...j,jk->...k", [(2, 3, 4), (4, 5)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("...ii", [(2, 3, 3)]),
    ("...,...->...", [(2, 3), (3,)]),
    ("i...,i...->...", [(3, 1, 4), (3, 2, 1)]),
    ("...j,...j->...", [(3, 4), (2, 1, 4)]),
    (" ij , jk -> ik ", [(2, 3), (3, 4)]),
    (",ij->ij", [(), (2, 3)]),
    ("->", [()]),
]


@pytest.mark.parametrize("subscripts, shapes", EINSUM_FORMS, ids=[f[0] for f in EINSUM_FORMS])
@pytest.mark.parametrize("optimize", [False, True])
def test_einsum_forms(subscripts, shapes, optimize):
    rng = np.random.default_rng(len(shapes))
    operands = [normal(rng, s) for s in shapes]
    check(np.einsum, subscripts, *operands, optimize=optimize)


@pytest.mark.parametrize(
    "subscripts, shapes", EINSUM_FORMS[:12], ids=[f[0] for f in EINSUM_FORMS[:12]]
)
def test_einsum_float32_and_non_contiguous(subscripts, shapes):
    rng = np.random.default_rng(0)
    operands = [
        normal(rng, s[:-1] + (2 * s[-1],), np.float32)[..., ::2] if s else normal(rng, s)
        for s in shapes
    ]
    check(np.einsum, subscripts, *operands)


def test_einsum_sublist_form_is_refused_clearly():
    x = np.ones((2, 2))
    with pytest.raises(TypeError, match="subscripts string"):
        lookup(np.einsum).adjoint(np.ones(()), np.einsum(x, [0, 0]), x, [0, 0])


# --------------------------------------------------------------------------- layouts

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


# --------------------------------------------------------------------------- shape rules


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
    src = data.draw(st.lists(st.integers(-nd, nd - 1), unique_by=lambda a: a % nd, max_size=nd))
    dst = data.draw(
        st.lists(
            st.integers(-nd, nd - 1),
            unique_by=lambda a: a % nd,
            min_size=len(src),
            max_size=len(src),
        )
    )
    check(np.moveaxis, x, src, dst)
    check(np.swapaxes, x, data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(0, nd - 1)))


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
    + [(getattr(np, "matrix_transpose", None), (2, 3, 4), (), {})] * numpy_at_least("2.0.0")
    + [(np.reshape, (2, 3, 4), (), {"shape": (-1,)})] * numpy_at_least("2.1.0"),
)
def test_small_shape_cases(prim, shape, args, params):
    x = normal(np.random.default_rng(0), shape)
    check(prim, x, *args, **params)


# --------------------------------------------------------------------------- float32


@pytest.mark.parametrize(
    "prim, inputs, params",
    [
        (np.sum, [(3, 4)], {"axis": 0}),
        (np.mean, [(3, 4)], {"axis": (0, 1), "keepdims": True}),
        (np.prod, [(3, 4)], {"axis": 1}),
        (np.var, [(3, 4)], {"axis": -1, "ddof": 1}),
        (np.std, [(3, 4)], {}),
        (np.max, [(3, 4)], {"axis": 1}),
        (np.matmul, [(4,), (2, 4, 3)], {}),
        (np.dot, [(2, 3, 4), (5, 4, 2)], {}),
        (np.inner, [(2, 4), (3, 4)], {}),
        (np.outer, [(3,), (4,)], {}),
    ],
)
def test_float32_cotangents_agree_with_float64(prim, inputs, params):
    rng = np.random.default_rng(0)
    xs = [normal(rng, s) for s in inputs]
    rule = lookup(prim)
    ans = prim(*xs, **params)
    g = rng.standard_normal(np.shape(ans))
    want = rule.adjoint(g, ans, *xs, **params)
    xs32 = [x.astype(np.float32) for x in xs]
    got = rule.adjoint(g.astype(np.float32), prim(*xs32, **params), *xs32, **params)
    want, got = (want, got) if isinstance(want, tuple) else ((want,), (got,))
    for w, h in zip(want, got):
        assert h.dtype == np.float32 and h.shape == w.shape
        np.testing.assert_allclose(h, w, rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------- the body contract

MODULES = (
    "srcgrad.rules.reductions",
    "srcgrad.rules.shape",
    "srcgrad.rules.broadcasting",
    "srcgrad.rules.products",
)


def _my_rules():
    return [r for r in registry.all_rules() if r.module in MODULES]


def test_every_listed_primitive_has_a_rule():
    names = {r.name for r in _my_rules()}
    expected = {
        "sum", "mean", "max", "amax", "min", "amin", "prod", "var", "std",
        "reshape", "ravel", "transpose", "matrix_transpose", "swapaxes", "moveaxis",
        "expand_dims", "squeeze", "broadcast_to", "concatenate", "stack", "split",
        "array_split", "tile", "repeat",
        "matmul", "dot", "outer", "inner", "tensordot", "einsum",
    }  # fmt: skip
    if not numpy_at_least("2.0.0"):
        expected.discard("matrix_transpose")  # np.matrix_transpose: numpy >= 2.0
    assert expected <= names


# --------------------------------------------------------------------------- on a device


class A:
    """An array operand of the given shape (random data) in a case table."""

    def __init__(self, *shape):
        self.shape = shape


DEVICE_CASES = [
    (np.einsum, ["ii->", A(3, 3)], {}),
    (np.einsum, ["iij->j", A(3, 3, 4)], {}),
    (np.einsum, ["...ii->...i", A(2, 3, 3)], {}),
    (np.einsum, ["i...,i...->...", A(3, 1, 4), A(3, 2, 1)], {}),
    (np.einsum, ["ij,jk,kl", A(2, 3), A(3, 4), A(4, 5)], {}),
    (np.einsum, ["ij->", A(3, 4)], {}),
    (np.repeat, [A(3, 4), [1, 0, 2]], {"axis": 0}),
    (np.repeat, [A(3, 4), np.array([1, 2, 0, 1])], {"axis": 1}),
    (np.repeat, [A(3, 4), 2], {}),
    (np.ravel, [A(3, 4)], {"order": "K"}),
    (np.reshape, [A(3, 4), (2, 6)], {"order": "A"}),
    (np.split, [A(6, 4), [3, 1]], {"axis": 0}),
    (np.array_split, [A(7, 4), 3], {}),
    (
        np.concatenate,
        [
            [
                A(2, 3),
                A(
                    5,
                ),
                A(1, 1, 2),
            ]
        ],
        {"axis": None},
    ),
    (np.tile, [A(2, 3), (2, 1, 2)], {}),
    (np.dot, [A(2, 3, 4), A(5, 4, 2)], {}),
    (np.dot, [A(), A(3, 4)], {}),
    (np.inner, [A(2, 4), A(3, 4)], {}),
    (np.tensordot, [A(2, 3, 4), A(4, 3, 2)], {"axes": ([0, 1, 2], [2, 1, 0])}),
    (
        np.matmul,
        [
            A(
                4,
            ),
            A(2, 4, 3),
        ],
        {},
    ),
    (np.prod, [A(3, 4)], {"axis": (0, 1)}),
    (np.var, [A(3, 4)], {"axis": 0, "ddof": 1}),
    (np.max, [A(3, 4)], {"axis": -1, "keepdims": True}),
]


def _build(entry, rng):
    """``A(shape)`` becomes random data (also inside a list); the rest stays as it is."""
    if isinstance(entry, A):
        return normal(rng, entry.shape)
    if isinstance(entry, list) and entry and isinstance(entry[0], A):
        return [normal(rng, e.shape) for e in entry]
    return entry


@pytest.mark.parametrize(
    "prim, entries, params", DEVICE_CASES, ids=[c[0].__name__ for c in DEVICE_CASES]
)
def test_special_cases_run_on_a_fake_device(prim, entries, params):
    from tests.fakexp import FakeArray, fakexp, to_device, to_host

    rng = np.random.default_rng(0)
    args = [_build(e, rng) for e in entries]
    rule = lookup(prim)
    ans = prim(*args, **params)
    if rule.multi_output:
        g = [None] + [rng.standard_normal(a.shape) for a in ans[1:]]
    else:
        g = rng.standard_normal(np.shape(ans))
    want = rule.adjoint(g, ans, *args, **params)

    def dev(x):
        if isinstance(x, np.ndarray) and x.dtype.kind == "f":
            return to_device(x)
        if isinstance(x, list) and x and isinstance(x[0], np.ndarray):
            return [to_device(v) for v in x]
        return x  # host values: subscripts, shapes, repeats

    fn = rule.adjoint
    on_device = types.FunctionType(
        fn.__code__, {**fn.__globals__, "np": fakexp}, fn.__name__, fn.__defaults__
    )
    on_device.__kwdefaults__ = fn.__kwdefaults__
    d_g = [None if u is None else to_device(u) for u in g] if rule.multi_output else dev(g)
    d_ans = [to_device(a) for a in ans] if rule.multi_output else to_device(np.asarray(ans))
    got = on_device(d_g, d_ans, *[dev(a) for a in args], **params)

    def leaves(x):
        return [y for v in x for y in leaves(v)] if isinstance(x, (list, tuple)) else [x]

    for w, h in zip(leaves(want), leaves(got), strict=True):
        assert isinstance(h, FakeArray)
        np.testing.assert_allclose(to_host(h), w, rtol=1e-12, atol=1e-12)
