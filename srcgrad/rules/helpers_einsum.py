"""Rules of ``einsum_cotangents`` and ``multi_dot_cotangents`` (higher orders through
``np.einsum`` and ``np.linalg.multi_dot``) and of the helpers their rules call.

The rule-body contract is in :mod:`srcgrad.rules.registry`.  A helper's own first
parameter ``g`` is named ``ct`` here.  The cotangents ``C_i`` of an einsum's operands
pair with their own cotangents ``G_i`` as ``sum_i <G_i, C_i> = <ct, einsum of the dual
operands>`` (:mod:`srcgrad.runtime.helpers_einsum`): the cotangent of ``ct`` is that
einsum, and those of the operands are the first slots of the dual einsum's cotangents.
``multi_dot`` is the einsum of its chain's subscripts.
"""

from __future__ import annotations

from srcgrad.rules.registry import adjoint, nondifferentiable
from srcgrad.runtime import (
    einsum_cotangents,
    einsum_dual_slot,
    einsum_dual_subscripts,
    einsum_dual_unslot,
    einsum_duals,
    einsum_of,
    filled,
    multi_dot_cotangents,
    multi_dot_subscripts,
)

_SUBSCRIPTS = {
    "subscripts": ["ij,jk->ik", "ij,jk", "ij,jk->", "ij,jk->ijk", "...j,jk->...k"]
}


@adjoint(
    einsum_of,
    python_floats=(),
    nondiff=("subscripts",),
    sequence=("operands",),
    shapes={
        "two": "-,[(3,4),(4,5)]",
        "three": ("-,[(2,3),(3,4),(4,)]", {"subscripts": "ij,jk,k->i"}),
        "trace": ("-,[(3,3)]", {"subscripts": "ii->"}),
    },
    params=_SUBSCRIPTS,
    view=True,  # einsum returns a view for a transpose ("ij->ji")
)
def einsum_of_adjoint(g, ans, subscripts, operands, optimize=False):
    return einsum_cotangents(g, subscripts, operands, optimize)


_EINSUM_COTANGENTS = {
    "matmul": ("(3,5),-,[(3,4),(4,5)]", {"subscripts": "ij,jk->ik"}),
    "full": ("(),-,[(3,4),(4,5)]", {"subscripts": "ij,jk->"}),
    "outer": ("(3,4,5),-,[(3,4),(4,5)]", {"subscripts": "ij,jk->ijk"}),
    "ellipsis": ("(2,3,5),-,[(2,3,4),(4,5)]", {"subscripts": "...j,jk->...k"}),
    "broadcast": ("(3,4),-,[(3,4),(1,4)]", {"subscripts": "ij,ij->ij"}),
    "three": ("(2,),-,[(2,3),(3,4),(4,)]", {"subscripts": "ij,jk,k->i"}),
    "trace": ("(),-,[(3,3)]", {"subscripts": "ii->"}),
}


@adjoint(
    einsum_cotangents,
    python_floats=(),
    nondiff=("subscripts",),
    sequence=("operands",),
    multi_output=True,
    shapes=_EINSUM_COTANGENTS,
)
def einsum_cotangents_adjoint(g, ans, ct, subscripts, operands, optimize=False):
    dual = einsum_dual_subscripts(subscripts, operands)
    duals = einsum_duals(operands, filled(g, ans))
    d_duals = einsum_cotangents(ct, dual, duals, optimize)
    return einsum_of(dual, duals, optimize), einsum_dual_slot(d_duals, 0)


@adjoint(
    multi_dot_cotangents,
    python_floats=(),
    sequence=("arrays",),
    multi_output=True,
    shapes={
        "three": "(2,2),[(2,3),(3,4),(4,2)]",
        "vector-ends": "(),[(3,),(3,4),(4,)]",
        "two": "(2,2),[(2,3),(3,2)]",
        "vector-first": "(3,),[(4,),(4,3)]",
        "four": "(3,),[(4,),(4,3),(3,2),(2,3)]",
    },
)
def multi_dot_cotangents_adjoint(g, ans, ct, arrays):
    dual = einsum_dual_subscripts(multi_dot_subscripts(arrays), arrays)
    duals = einsum_duals(arrays, filled(g, ans))
    d_duals = einsum_cotangents(ct, dual, duals)
    return einsum_of(dual, duals), einsum_dual_slot(d_duals, 0)


_DUALS = {"two": "[(3,4),(4,5)],[(3,4),(4,5)]", "one": "[(3,)],[(3,)]"}


@adjoint(
    einsum_duals,
    python_floats=(),
    sequence=("first", "second"),
    multi_output=True,
    shapes=_DUALS,
)
def einsum_duals_adjoint(g, ans, first, second):
    # the selector is a constant: its cotangent goes nowhere
    return einsum_dual_slot(filled(g, ans), 0), einsum_dual_slot(filled(g, ans), 1)


@adjoint(
    einsum_dual_slot,
    python_floats=(),
    nondiff=("k",),
    sequence=("duals",),
    multi_output=True,
    shapes={"two": ("[(2,2),(2,3,4),(2,4,5)],-", {})},
    params={"k": [0, 1]},
    view=True,
)
def einsum_dual_slot_adjoint(g, ans, duals, k):
    return einsum_dual_unslot(filled(g, ans), k)


@adjoint(
    einsum_dual_unslot,
    python_floats=(),
    nondiff=("k",),
    sequence=("parts",),
    multi_output=True,
    shapes={"two": ("[(3,4),(4,5)],-", {})},
    params={"k": [0, 1]},
)
def einsum_dual_unslot_adjoint(g, ans, parts, k):
    return einsum_dual_slot(filled(g, ans), k)


nondifferentiable(
    einsum_dual_subscripts, reason="a subscripts string, made from the operands' ranks"
)
nondifferentiable(
    multi_dot_subscripts, reason="a subscripts string, made from the operands' ranks"
)
