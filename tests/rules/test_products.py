"""Product rules beyond the registry's grids: 1-D and broadcast-batched ``matmul``, every rank
combination of ``np.dot``/``np.inner``, ``tensordot``'s axes forms, einsum forms (traces,
diagonals, ellipses, implicit output, three operands), complex inputs, 2-vector ``cross``.

Every gradient is checked against central differences, never against hard-coded values.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from srcgrad.rules import lookup
from srcgrad.rules.registry import numpy_function
from tests.rules._checks import FEW, check, check_complex, check_rule, crandn, normal
from tests.rules._checks import _cache_dir  # noqa: F401  (an autouse fixture)

# numpy >= 2.0 (vecdot) / 2.2 (vecmat, matvec): absent ones are left out on an older numpy
_PRODUCTS = [numpy_function(p) for p in ("vecdot", "linalg.vecdot", "vecmat", "matvec")]


def _two_vector_cross() -> bool:
    """Whether the installed numpy still computes np.cross of 2-vectors (deprecated in numpy
    2.0, removed in 2.5)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            np.cross(np.ones(2), np.ones(2))
    except ValueError:
        return False
    return True


RANK_PAIRS = [(p, q) for p in range(4) for q in range(4)]


def _dot_shapes(p, q, k=3):
    a = (2, 4, 5)[: max(p - 1, 0)] + ((k,) if p else ())
    if q == 0:
        return a, ()
    if q == 1:
        return a, (k,)
    return a, (3, 2)[: q - 2] + (k, 4)


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
    [
        ((5,), (2, 3, 5, 4)),
        ((2, 3, 5, 4), (4,)),
        ((3, 1, 2, 4), (1, 5, 4, 2)),
        ((6,), (6,)),
    ],
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


@pytest.mark.parametrize(
    "sa, sb", [((3,), (4,)), ((2, 3), (2, 2)), ((), ()), ((2, 1), ())]
)
def test_outer_flattens_its_operands(sa, sb):
    rng = np.random.default_rng(0)
    check(np.outer, normal(rng, sa), normal(rng, sb))
    check(np.outer, normal(rng, sa, np.float32), normal(rng, sb))


@pytest.mark.parametrize(
    "subscripts, shapes", EINSUM_FORMS, ids=[f[0] for f in EINSUM_FORMS]
)
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
        (
            normal(rng, s[:-1] + (2 * s[-1],), np.float32)[..., ::2]
            if s
            else normal(rng, s)
        )
        for s in shapes
    ]
    check(np.einsum, subscripts, *operands)


def test_einsum_sublist_form_is_refused_clearly():
    x = np.ones((2, 2))
    with pytest.raises(TypeError, match="subscripts string"):
        lookup(np.einsum).adjoint(np.ones(()), np.einsum(x, [0, 0]), x, [0, 0])


@pytest.mark.parametrize(
    "prim", [np.matmul, np.kron, np.convolve, np.correlate, np.cross]
)
def test_products_on_complex_inputs(prim):
    rng = np.random.default_rng(6)
    if prim is np.matmul:
        a, b = crandn(rng, 3, 4), crandn(rng, 4, 2)
    elif prim is np.cross:
        a, b = crandn(rng, 2, 3), crandn(rng, 3)
    elif prim is np.kron:
        a, b = crandn(rng, 2, 2), crandn(rng, 3)
    else:
        a, b = crandn(rng, 5), crandn(rng, 3)
    check_complex(prim, [a, b])


@pytest.mark.parametrize("prim", [p for p in _PRODUCTS if p is not None])
def test_conjugating_products_on_complex_inputs(prim):
    rng = np.random.default_rng(7)
    if prim is getattr(np, "vecmat", None):
        a, b = crandn(rng, 2, 3), crandn(rng, 3, 4)
    elif prim is getattr(np, "matvec", None):
        a, b = crandn(rng, 2, 3, 4), crandn(rng, 4)
    else:
        a, b = crandn(rng, 3, 4), crandn(rng, 4)
    check_complex(prim, [a, b])


@pytest.mark.skipif(
    not _two_vector_cross(), reason="this numpy has no 2-vector np.cross"
)
def test_cross_with_two_vectors():
    rng = np.random.default_rng(26)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        check_rule(np.cross, rng.standard_normal((4, 2)), rng.standard_normal((4, 2)))
        check_rule(np.cross, rng.standard_normal((4, 2)), rng.standard_normal((4, 3)))


def test_cross_cotangents_never_call_two_vector_cross():
    """The rule pads to 3-vectors itself: it works on a numpy without 2-vector cross."""
    rng = np.random.default_rng(26)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        check_rule(np.cross, rng.standard_normal((4, 3)), rng.standard_normal((3,)))
        check_rule(
            np.cross, rng.standard_normal((3, 2)), rng.standard_normal((3, 2)), axis=0
        )
