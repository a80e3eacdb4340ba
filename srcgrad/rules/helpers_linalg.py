"""Rules of the cotangent helpers of the ``numpy.linalg`` rules that are linear in the
cotangent they map (higher-order derivatives through solves).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  A helper's own first
parameter ``g`` is named ``ct`` here.  ``solve_cotangent_b(ct, a, b)`` is
``solve(a^T, ct)`` summed to ``b``'s shape: its adjoint for ``ct`` is ``w = solve(a, g)``
(``g`` has ``b``'s shape, ``solve`` broadcasts it as the forward did), and for ``a`` it is
``-solve(a^T, ct) w^T``, which is ``solve_cotangent_a`` with ``w`` in the place of the
solution.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.linalg import well_conditioned
from srcgrad.rules.registry import adjoint, numpy_at_least
from srcgrad.runtime import solve_cotangent_a, solve_cotangent_b, unbroadcast


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
        "broadcast-b": "(2,3,2),(2,3,3),(3,2)",
        **(
            {"batch-vector": "(2,3),(2,3,3),(3,)"}
            if numpy_at_least("2.0.0")
            else {}
        ),
    },
)
def solve_cotangent_b_adjoint(g, ans, ct, a, b):
    w = np.linalg.solve(a, g)
    return unbroadcast(w, ct), solve_cotangent_a(ct, w, a, b)
