"""Rules of the cotangent helpers of the solves' rules (``numpy.linalg.solve``,
``tensorsolve``) for the right-hand side: each is linear in the cotangent it maps
(higher-order derivatives through solves).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  A helper's own first
parameter ``g`` is named ``ct`` here.  ``solve_cotangent_b(ct, a, b)`` is
``solve(a^T, ct)`` summed to ``b``'s shape: its adjoint for ``ct`` is ``w = solve(a, g)``
(``g`` has ``b``'s shape, ``solve`` broadcasts it as the forward did), and for ``a`` it is
``-solve(a^T, ct) w^T``, which is ``solve_cotangent_a`` with ``w`` in the place of the
solution.  Likewise ``<h, m^-T ct> = <ct, solve(m, h)>`` for ``tensorsolve``: the
cotangent for the matrix is the solve's own first cotangent for it, at the cotangent
``ct`` and the solution ``solve(m, g)``.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.linalg import square_tensor, well_conditioned
from srcgrad.rules.registry import adjoint, numpy_at_least
from srcgrad.runtime import (
    solve_cotangent_a,
    solve_cotangent_b,
    tensorsolve_cotangent_a,
    tensorsolve_cotangent_b,
    unbroadcast,
)


@adjoint(
    solve_cotangent_b,
    python_floats=(),
    nondiff=("b",),
    shape_only=("b",),
    domain={"a": well_conditioned},
    shapes={
        "matrix": "(3,2),(3,3),(3,2)",
        "vector": "(3,),(3,3),(3,)",
        "batch": "(2,3,1),(2,3,3),(2,3,1)",
        "broadcast-a": "(2,3,2),(3,3),(2,3,2)",
        # numpy < 2 reads a b of a's ndim - 1 as a stack of vectors
        **(
            {
                "broadcast-b": "(2,3,2),(2,3,3),(3,2)",
                "batch-vector": "(2,3),(2,3,3),(3,)",
            }
            if numpy_at_least("2.0.0")
            else {}
        ),
    },
)
def solve_cotangent_b_adjoint(g, ans, ct, a, b):
    w = np.linalg.solve(a, g)
    return unbroadcast(w, ct), solve_cotangent_a(ct, w, a, b)


@adjoint(
    tensorsolve_cotangent_b,
    python_floats=(),
    nondiff=("x", "b"),
    shape_only=("x", "b"),
    domain={"a": square_tensor},
    shapes={
        "plain": "(6,),(6,),(2,3,6),(2,3)",
        "axes": ("(6,),(6,),(6,2,3),(2,3)", {"axes": (0,)}),
    },
)
def tensorsolve_cotangent_b_adjoint(g, ans, ct, x, a, b, axes=None):
    w = np.linalg.tensorsolve(a, g, axes)
    return unbroadcast(w, ct), tensorsolve_cotangent_a(ct, w, a, b, axes)
