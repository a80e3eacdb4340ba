"""Adjoint rules for products: matmul (``@``), dot, outer, inner, tensordot, einsum, multi_dot,
cross, vecdot, matvec, vecmat, kron, convolve, correlate (and their ``numpy.linalg`` twins).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  Conventions in this module:

* Signatures follow numpy's parameter names; ``out=`` and matmul's ufunc keywords are not
  accepted.  ``einsum`` takes its subscripts string as the nondiff first parameter and its
  operands as ``*operands``; its cotangent is a tuple with one entry per operand.  The
  interleaved ``einsum(op, sublist, ...)`` form is not supported (a clear ``TypeError``).
* ``shapes`` names the test cases; each is a string with one entry per positional parameter,
  as in ``binary.py``: ``(3,4)`` is an operand's shape, ``()`` a 0-d array, and ``-`` a nondiff
  positional parameter whose values come from the ``params`` grid (``einsum``'s subscripts,
  followed by one shape per operand of ``*operands``).  Every combination in a ``params``
  grid is valid for every case.  Forms that need their own shapes (traces, ellipses, three
  operands) are tested in ``tests/rules/test_products.py``.
* The cotangents are products with the other operand, written as one runtime helper call
  per operand (``matmul_cotangent_x1``, ``dot_cotangent_b``, ...) so that dead-code
  elimination drops the half no active operand needs.  The helpers hold the rank cases
  (1-D matmul operands, ``np.dot``'s N-D rules) and fold batched products into one 2-D
  BLAS call where they can.  ``einsum``'s cotangent is one tuple, so all of it is computed.
* The products are bilinear, so their rules need no conjugation under autograd's convention
  for complex inputs.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint, numpy_function
from srcgrad.runtime import (
    cast_like,
    convolve_cotangents,
    cross_cotangent_a,
    cross_cotangent_b,
    dot_cotangent_a,
    dot_cotangent_b,
    einsum_cotangents,
    inner_cotangent_a,
    inner_cotangent_b,
    kron_cotangent_a,
    kron_cotangent_b,
    matmul_cotangent_x1,
    matmul_cotangent_x2,
    matvec_cotangent_x1,
    matvec_cotangent_x2,
    multi_dot_cotangents,
    reshape_like,
    tensordot_cotangent_a,
    tensordot_cotangent_b,
    vecdot_cotangent_x1,
    vecdot_cotangent_x2,
    vecmat_cotangent_x1,
    vecmat_cotangent_x2,
)

_VECDOT_SHAPES = {
    "vectors": "(4,),(4,)",
    "batch": "(3,4),(4,)",
    "broadcast": "(3,1,4),(2,4)",
}


# --------------------------------------------------------------------------- matmul and dot


@adjoint(
    np.matmul,
    operator="@",
    shapes={
        "matrix": "(3,4),(4,5)",
        "batch-left": "(2,3,4),(4,5)",
        "batch-right": "(3,4),(2,4,5)",
        "batch-broadcast": "(2,1,3,4),(5,4,2)",
        "vector-matrix": "(4,),(4,5)",
        "matrix-vector": "(3,4),(4,)",
        "vector-vector": "(4,),(4,)",
        "vector-batch": "(4,),(2,4,3)",
        "batch-vector": "(2,3,4),(4,)",
    },
    jvp="multilinear",
)
def matmul_adjoint(g, ans, x1, x2):
    # g @ x2^T and x1^T @ g, with 1-D operands promoted and broadcast batches summed
    return matmul_cotangent_x1(g, x1, x2), matmul_cotangent_x2(g, x1, x2)


@adjoint(
    np.dot,
    methods=("dot",),
    shapes={
        "matrix": "(3,4),(4,5)",
        "vector-vector": "(4,),(4,)",
        "matrix-vector": "(3,4),(4,)",
        "vector-matrix": "(4,),(4,5)",
        "tensor-vector": "(2,3,4),(4,)",
        "tensor-tensor": "(2,3,4),(5,4,2)",
        "vector-tensor": "(3,),(2,3,4)",
        "zero-d-left": "(),(3,4)",
        "zero-d-right": "(3,4),()",
    },
    jvp="multilinear",
)
def dot_adjoint(g, ans, a, b):
    return dot_cotangent_a(g, a, b), dot_cotangent_b(g, a, b)


@adjoint(
    np.outer,
    shapes={"vectors": "(3,),(4,)", "flattened": "(2,3),(4,)", "zero-d": "(),(4,)"},
    jvp="multilinear",
)
def outer_adjoint(g, ans, a, b):
    # outer flattens both operands: ans[i, j] = ravel(a)[i] * ravel(b)[j]
    return reshape_like(g @ np.ravel(b), a), reshape_like(np.ravel(a) @ g, b)


@adjoint(
    np.inner,
    shapes={
        "vectors": "(4,),(4,)",
        "matrix-vector": "(3,4),(4,)",
        "vector-matrix": "(4,),(3,4)",
        "tensors": "(2,3,4),(5,4)",
        "zero-d-left": "(),(3,4)",
        "zero-d-right": "(3,4),()",
    },
    jvp="multilinear",
)
def inner_adjoint(g, ans, a, b):
    return inner_cotangent_a(g, a, b), inner_cotangent_b(g, a, b)


@adjoint(
    np.tensordot,
    shapes={"matrices": "(3,4),(4,3)"},
    params={"axes": [0, 1, ([1], [0]), ([0], [1]), ([0, 1], [1, 0])]},
    jvp="multilinear",
)
def tensordot_adjoint(g, ans, a, b, axes=2):
    return tensordot_cotangent_a(g, a, b, axes), tensordot_cotangent_b(g, a, b, axes)


# --------------------------------------------------------------------------- einsum


@adjoint(
    np.einsum,
    nondiff=("subscripts",),
    shapes={"two-operands": "-,(3,4),(4,5)"},
    params={
        "subscripts": [
            "ij,jk->ik",
            "ij,jk",
            "ij,jk->ki",
            "ij,jk->",
            "ij,jk->j",
            "ij,jk->ijk",
            "...j,jk->...k",
        ]
    },
    jvp="multilinear",
)
def einsum_adjoint(g, ans, subscripts, *operands, optimize=False):
    return einsum_cotangents(g, subscripts, operands, optimize)


# --------------------------------------------------------------------------- vector products


@adjoint(
    np.cross,
    shapes={
        "vectors": "(3,),(3,)",
        "broadcast": "(4,3),(3,)",
        "axes": ("(3,4),(4,3)", {"axisa": 0}),
        "axis": ("(3,2),(3,2)", {"axis": 0}),
    },
    jvp="multilinear",
)
def cross_adjoint(g, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    return (
        cross_cotangent_a(g, a, b, axisa, axisb, axisc, axis),
        cross_cotangent_b(g, a, b, axisa, axisb, axisc, axis),
    )


if hasattr(np, "vecdot"):  # numpy >= 2.0

    @adjoint(
        numpy_function("vecdot"),
        shapes={**_VECDOT_SHAPES, "axis": ("(4,3),(4,3)", {"axis": 0})},
        jvp="multilinear",
    )
    def vecdot_adjoint(g, ans, x1, x2, /, *, axis=-1):
        return vecdot_cotangent_x1(g, x1, x2, axis), vecdot_cotangent_x2(
            g, x1, x2, axis
        )


if hasattr(np, "matvec"):  # numpy >= 2.2

    @adjoint(
        numpy_function("matvec"),
        shapes={
            "matrix": "(3,4),(4,)",
            "batch": "(2,3,4),(2,4)",
            "broadcast": "(3,4),(2,4)",
        },
        jvp="multilinear",
    )
    def matvec_adjoint(g, ans, x1, x2, /):
        return matvec_cotangent_x1(g, x1, x2), matvec_cotangent_x2(g, x1, x2)

    @adjoint(
        numpy_function("vecmat"),
        shapes={
            "matrix": "(3,),(3,4)",
            "batch": "(2,3),(2,3,4)",
            "broadcast": "(2,3),(3,4)",
        },
        jvp="multilinear",
    )
    def vecmat_adjoint(g, ans, x1, x2, /):
        return vecmat_cotangent_x1(g, x1, x2), vecmat_cotangent_x2(g, x1, x2)


# --------------------------------------------------------------------------- numpy.linalg names


@adjoint(
    np.linalg.multi_dot,
    sequence=("arrays",),
    shapes={
        "three": "[(2,3),(3,4),(4,2)]",
        "vector-ends": "[(3,),(3,4),(4,)]",
        "two": "[(2,3),(3,2)]",
        "four": "[(4,),(4,3),(3,2),(2,3)]",
    },
    jvp="multilinear",
)
def multi_dot_adjoint(g, ans, arrays, *, out=None):
    return multi_dot_cotangents(g, arrays)


@adjoint(
    numpy_function("linalg.cross"),
    shapes={
        "vectors": "(3,),(3,)",
        "broadcast": "(4,3),(3,)",
        "axis": ("(3,2),(3,2)", {"axis": 0}),
    },
    jvp="multilinear",
)
def linalg_cross_adjoint(g, ans, x1, x2, /, *, axis=-1):
    return (
        cross_cotangent_a(g, x1, x2, axis, axis, axis),
        cross_cotangent_b(g, x1, x2, axis, axis, axis),
    )


@adjoint(
    numpy_function("linalg.matmul"),
    shapes={"matrix": "(3,4),(4,5)", "batch": "(2,3,4),(4,5)", "vector": "(4,),(4,5)"},
    jvp="multilinear",
)
def linalg_matmul_adjoint(g, ans, x1, x2, /):
    return matmul_cotangent_x1(g, x1, x2), matmul_cotangent_x2(g, x1, x2)


@adjoint(
    numpy_function("linalg.tensordot"),
    shapes={"matrices": "(3,4),(4,3)"},
    params={"axes": [0, 1, ([1], [0])]},
    jvp="multilinear",
)
def linalg_tensordot_adjoint(g, ans, x1, x2, /, *, axes=2):
    return tensordot_cotangent_a(g, x1, x2, axes), tensordot_cotangent_b(
        g, x1, x2, axes
    )


@adjoint(
    numpy_function("linalg.outer"), shapes={"vectors": "(3,),(4,)"}, jvp="multilinear"
)
def linalg_outer_adjoint(g, ans, x1, x2, /):
    return cast_like(g @ x2, x1), cast_like(x1 @ g, x2)


@adjoint(numpy_function("linalg.vecdot"), shapes=_VECDOT_SHAPES, jvp="multilinear")
def linalg_vecdot_adjoint(g, ans, x1, x2, /, *, axis=-1):
    return vecdot_cotangent_x1(g, x1, x2, axis), vecdot_cotangent_x2(g, x1, x2, axis)


# --------------------------------------------------------------------------- kron and convolve


@adjoint(
    np.kron,
    shapes={
        "matrices": "(2,3),(2,2)",
        "vectors": "(3,),(2,)",
        "mixed": "(2,2),(3,)",
        "3d": "(2,1,2),(2,2)",
    },
    jvp="multilinear",
)
def kron_adjoint(g, ans, a, b):
    return kron_cotangent_a(g, a, b), kron_cotangent_b(g, a, b)


@adjoint(
    np.convolve,
    shapes={
        "long-first": "(5,),(3,)",
        "long-second": "(3,),(5,)",
        "equal": "(4,),(4,)",
    },
    params={"mode": ["full", "same", "valid"]},
    jvp="multilinear",
)
def convolve_adjoint(g, ans, a, v, mode="full"):
    return convolve_cotangents(g, a, v, mode, "convolve")


@adjoint(
    np.correlate,
    shapes={
        "long-first": "(5,),(3,)",
        "long-second": "(3,),(5,)",
        "equal": "(4,),(4,)",
    },
    params={"mode": ["valid", "same", "full"]},
    jvp="multilinear",
)
def correlate_adjoint(g, ans, a, v, mode="valid"):
    return convolve_cotangents(g, a, v, mode, "correlate")


# --------------------------------------------------------------------------- runtime helpers
# The cotangents of matmul are bilinear: <G, matmul_cotangent_x1(g, x1, x2)> = <G @ x2, g>
# for any G shaped like x1, so their own rules are products again (higher order).


@adjoint(
    matmul_cotangent_x1,
    nondiff=("x1",),
    shape_only=("x1",),
    shapes={"2d": "(3,4),(3,5),(5,4)", "batch": "(2,3,4),(3,5),(2,5,4)"},
)
def matmul_cotangent_x1_adjoint(g, ans, g1, x1, x2):
    # the helper's own parameters are (g, x1, x2): here g1 is the cotangent it maps
    return g @ x2, matmul_cotangent_x2(g1, g, x2)


@adjoint(
    matmul_cotangent_x2,
    nondiff=("x2",),
    shape_only=("x2",),
    shapes={"2d": "(3,4),(3,5),(5,4)", "batch": "(2,3,4),(2,3,5),(5,4)"},
)
def matmul_cotangent_x2_adjoint(g, ans, g1, x1, x2):
    return x1 @ g, matmul_cotangent_x1(g1, x1, g)


@adjoint(
    cast_like,
    nondiff=("like",),
    shape_only=("like",),  # only its dtype is read
    shapes={"same": "(3,4),(3,4)"},
    view=True,
)
def cast_like_adjoint(g, ans, x, like):
    return cast_like(g, x)
