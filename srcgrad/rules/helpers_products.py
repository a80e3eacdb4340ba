"""Rules of the product cotangents that emitted code calls (``dot_cotangent_a``,
``tensordot_cotangent_b``, ``vecdot_cotangent_x1``, ...): higher-order derivatives through
products.

The rule-body contract is in :mod:`srcgrad.rules.registry`.  ``H_a(ct, a, b)``, the
cotangent of ``a`` in ``f(a, b)``, is bilinear in ``ct`` and ``b`` (``a`` gives only its
shape): ``<G, H_a(ct, a, b)> = <f(G, b), ct>`` for any ``G`` shaped like ``a``, so its
rule is ``f`` again for ``ct`` and the other cotangent, ``H_b(ct, G, b)``, for ``b``.
The helper's own first parameter is named ``g``: here it is ``ct``.  Real operands: the
conjugations of a complex product are not modelled here.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint
from srcgrad.runtime import (
    cast_like,
    convolve_cotangents,
    convolve_kind,
    require_real,
    zeros_if_none,
    cross_cotangent_a,
    cross_cotangent_b,
    kron_cotangent_a,
    kron_cotangent_b,
    dot_cotangent_a,
    dot_cotangent_b,
    inner_cotangent_a,
    inner_cotangent_b,
    matvec_cotangent_x1,
    matvec_cotangent_x2,
    tensordot_cotangent_a,
    tensordot_cotangent_b,
    unbroadcast,
    vecdot_cotangent_x1,
    vecdot_cotangent_x2,
    vecmat_cotangent_x1,
    vecmat_cotangent_x2,
)

_DOT_A = {
    "matrix": "(3,5),(3,4),(4,5)",
    "vector": "(),(4,),(4,)",
    "stack": "(2,3,5),(2,3,4),(4,5)",
    "float": "(3,4),(3,4),s",
}
_DOT_B = {
    "matrix": "(3,5),(3,4),(4,5)",
    "vector": "(),(4,),(4,)",
    "stack": "(2,5),(4,),(2,4,5)",
    "float": "(3,4),s,(3,4)",
}


@adjoint(
    dot_cotangent_a,
    python_floats=("b",),
    nondiff=("a",),
    shape_only=("a",),
    shapes=_DOT_A,
)
def dot_cotangent_a_adjoint(g, ans, ct, a, b):
    return unbroadcast(np.dot(g, b), ct), dot_cotangent_b(ct, g, b)


@adjoint(
    dot_cotangent_b,
    python_floats=("ct", "a"),
    nondiff=("b",),
    shape_only=("b",),
    shapes=_DOT_B,
)
def dot_cotangent_b_adjoint(g, ans, ct, a, b):
    return unbroadcast(np.dot(a, g), ct), dot_cotangent_a(ct, a, g)


_INNER = {"matrix": "(3,5),(3,4),(5,4)", "vector": "(),(4,),(4,)"}


@adjoint(
    inner_cotangent_a,
    python_floats=("b",),
    nondiff=("a",),
    shape_only=("a",),
    shapes=_INNER,
)
def inner_cotangent_a_adjoint(g, ans, ct, a, b):
    return unbroadcast(np.inner(g, b), ct), inner_cotangent_b(ct, g, b)


@adjoint(
    inner_cotangent_b,
    python_floats=("a",),
    nondiff=("b",),
    shape_only=("b",),
    shapes=_INNER,
)
def inner_cotangent_b_adjoint(g, ans, ct, a, b):
    return unbroadcast(np.inner(a, g), ct), inner_cotangent_a(ct, a, g)


_TENSORDOT = {
    "two": "(3,2),(3,4,5),(4,5,2)",
    "one": ("(3,4,2),(3,4,5),(5,2)", {"axes": 1}),
    "pairs": ("(4,2),(3,4,5),(5,3,2)", {"axes": ([0, 2], [1, 0])}),
}


@adjoint(
    tensordot_cotangent_a,
    python_floats=("ct", "a"),
    nondiff=("a",),
    shape_only=("a",),
    shapes=_TENSORDOT,
)
def tensordot_cotangent_a_adjoint(g, ans, ct, a, b, axes=2):
    return unbroadcast(np.tensordot(g, b, axes), ct), tensordot_cotangent_b(
        ct, g, b, axes
    )


@adjoint(tensordot_cotangent_b, nondiff=("b",), shape_only=("b",), shapes=_TENSORDOT)
def tensordot_cotangent_b_adjoint(g, ans, ct, a, b, axes=2):
    return unbroadcast(np.tensordot(a, g, axes), ct), tensordot_cotangent_a(
        ct, a, g, axes
    )


# numpy 2's matvec, vecmat and vecdot, written with sums (their cotangent helpers run
# on numpy 1.26 too)

_MATVEC = {"one": "(3,),(3,4),(4,)", "batch": "(2,3),(2,3,4),(4,)"}


@adjoint(
    matvec_cotangent_x1,
    python_floats=("ct", "x2"),
    nondiff=("x1",),
    shape_only=("x1",),
    shapes=_MATVEC,
)
def matvec_cotangent_x1_adjoint(g, ans, ct, x1, x2):
    at = np.sum(g * np.expand_dims(x2, -2), axis=-1)
    return unbroadcast(at, ct), matvec_cotangent_x2(ct, g, x2)


@adjoint(
    matvec_cotangent_x2,
    python_floats=("ct", "x1"),
    nondiff=("x2",),
    shape_only=("x2",),
    shapes={"one": "(3,),(3,4),(4,)", "batch": "(2,3),(3,4),(2,4)"},
)
def matvec_cotangent_x2_adjoint(g, ans, ct, x1, x2):
    at = np.sum(x1 * np.expand_dims(g, -2), axis=-1)
    return unbroadcast(at, ct), matvec_cotangent_x1(ct, x1, g)


_VECMAT = {"one": "(4,),(3,),(3,4)", "batch": "(2,4),(2,3),(3,4)"}


@adjoint(
    vecmat_cotangent_x1,
    python_floats=("ct", "x2"),
    nondiff=("x1",),
    shape_only=("x1",),
    shapes=_VECMAT,
)
def vecmat_cotangent_x1_adjoint(g, ans, ct, x1, x2):
    at = np.sum(np.expand_dims(g, -1) * x2, axis=-2)
    return unbroadcast(at, ct), vecmat_cotangent_x2(ct, g, x2)


@adjoint(
    vecmat_cotangent_x2,
    python_floats=("ct", "x1"),
    nondiff=("x2",),
    shape_only=("x2",),
    shapes={"one": "(4,),(3,),(3,4)", "batch": "(2,4),(3,),(2,3,4)"},
)
def vecmat_cotangent_x2_adjoint(g, ans, ct, x1, x2):
    at = np.sum(np.expand_dims(x1, -1) * g, axis=-2)
    return unbroadcast(at, ct), vecmat_cotangent_x1(ct, x1, g)


_VECDOT = {
    "last": "(3,),(3,4),(3,4)",
    "broadcast": "(3,),(3,4),(4,)",
    "axis": ("(4,),(3,4),(3,4)", {"axis": 0}),
}


@adjoint(vecdot_cotangent_x1, nondiff=("x1",), shape_only=("x1",), shapes=_VECDOT)
def vecdot_cotangent_x1_adjoint(g, ans, ct, x1, x2, axis=-1):
    return unbroadcast(np.sum(g * x2, axis=axis), ct), vecdot_cotangent_x2(
        ct, g, x2, axis
    )


@adjoint(
    vecdot_cotangent_x2,
    nondiff=("x2",),
    shape_only=("x2",),
    shapes={
        "last": "(3,),(3,4),(3,4)",
        "broadcast": "(3,),(4,),(3,4)",
        "axis": ("(4,),(3,4),(3,4)", {"axis": 0}),
    },
)
def vecdot_cotangent_x2_adjoint(g, ans, ct, x1, x2, axis=-1):
    return unbroadcast(np.sum(x1 * g, axis=axis), ct), vecdot_cotangent_x1(
        ct, x1, g, axis
    )


_KRON = {"matrix": "(6,20),(2,4),(3,5)", "vector": "(12,),(3,),(4,)"}


@adjoint(kron_cotangent_a, nondiff=("a",), shape_only=("a",), shapes=_KRON)
def kron_cotangent_a_adjoint(g, ans, ct, a, b):
    return unbroadcast(np.kron(g, b), ct), kron_cotangent_b(ct, g, b)


@adjoint(kron_cotangent_b, nondiff=("b",), shape_only=("b",), shapes=_KRON)
def kron_cotangent_b_adjoint(g, ans, ct, a, b):
    return unbroadcast(np.kron(a, g), ct), kron_cotangent_a(ct, a, g)


_CROSS = {
    "rows": "(4,3),(4,3),(4,3)",
    "broadcast": "(4,3),(4,3),(3,)",
    "columns": ("(3,4),(3,4),(3,4)", {"axis": 0}),
}


@adjoint(cross_cotangent_a, nondiff=("a",), shape_only=("a",), shapes=_CROSS)
def cross_cotangent_a_adjoint(
    g, ans, ct, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None
):
    at = np.cross(g, b, axisa, axisb, axisc, axis)
    return unbroadcast(at, ct), cross_cotangent_b(ct, g, b, axisa, axisb, axisc, axis)


@adjoint(
    cross_cotangent_b,
    nondiff=("b",),
    shape_only=("b",),
    shapes={
        "rows": "(4,3),(4,3),(4,3)",
        "broadcast": "(4,3),(3,),(4,3)",
        "columns": ("(3,4),(3,4),(3,4)", {"axis": 0}),
    },
)
def cross_cotangent_b_adjoint(
    g, ans, ct, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None
):
    at = np.cross(a, g, axisa, axisb, axisc, axis)
    return unbroadcast(at, ct), cross_cotangent_a(ct, a, g, axisa, axisb, axisc, axis)


# --------------------------------------------------------------------------- convolutions
# convolve_cotangents(ct, a, v) is the adjoint of a -> convolve_kind(a, v) and of
# v -> convolve_kind(a, v): <G_a, d_a> + <G_v, d_v> = <convolve_kind(G_a, v) +
# convolve_kind(a, G_v), ct>, so the cotangent of ct is that sum, and those of a and v
# are the helper itself at (ct, a, G_v) and (ct, G_a, v).  Real operands (correlate
# conjugates v): a complex one is refused.

_CONVOLVE = {
    "full": ("(7,),(5,),(3,)", {"mode": "full"}),
    "full-short-first": ("(7,),(3,),(5,)", {"mode": "full"}),
    "same": ("(5,),(5,),(3,)", {"mode": "same"}),
    "valid": ("(3,),(5,),(3,)", {"mode": "valid"}),
    "correlate": ("(3,),(5,),(3,)", {"mode": "valid", "kind": "correlate"}),
    "correlate-full": ("(7,),(3,),(5,)", {"mode": "full", "kind": "correlate"}),
}


@adjoint(
    convolve_kind,
    shapes={
        "full": ("(5,),(3,)", {"mode": "full"}),
        "same": ("(3,),(5,)", {"mode": "same"}),
        "valid": ("(5,),(3,)", {"mode": "valid"}),
        "correlate": ("(5,),(3,)", {"mode": "valid", "kind": "correlate"}),
    },
    jvp="multilinear",
)
def convolve_kind_adjoint(g, ans, a, v, mode="full", kind="convolve"):
    return convolve_cotangents(g, a, v, mode, kind)


@adjoint(
    convolve_cotangents,
    python_floats=(),
    multi_output=True,
    shapes=_CONVOLVE,
)
def convolve_cotangents_adjoint(g, ans, ct, a, v, mode="full", kind="convolve"):
    g_a = zeros_if_none(g[0], ans[0])
    g_v = zeros_if_none(g[1], ans[1])
    real_a = require_real(a, "convolve")
    real_v = require_real(v, "convolve")
    d_ct = convolve_kind(g_a, real_v, mode, kind) + convolve_kind(
        real_a, g_v, mode, kind
    )
    return (
        cast_like(d_ct, ct),
        convolve_cotangents(ct, real_a, g_v, mode, kind)[0],
        convolve_cotangents(ct, g_a, real_v, mode, kind)[1],
    )
