"""Adjoint rules, one per primitive (DESIGN §6); importing the package registers them all.

Use :func:`adjoint` to register a rule, :func:`nondifferentiable` to declare a function whose
result carries no gradient, and :func:`lookup` to find the rule of a primitive.
"""

from srcgrad.rules import (  # noqa: F401  (importing a module registers its rules)
    binary,
    elementwise,
    emitted,
    fft,
    indexing,
    indexing_more,
    linalg,
    linalg_more,
    nondiff,
    reductions,
    registry,
    scans,
    scipy_special,
    shape,
    special,
)
from srcgrad.rules.registry import adjoint, lookup, nondifferentiable

__all__ = ["adjoint", "lookup", "nondifferentiable", "registry"]
