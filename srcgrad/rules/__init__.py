"""Adjoint rules, one per primitive (DESIGN §6); importing the package registers them all.

Use :func:`adjoint` to register a rule, :func:`nondifferentiable` to declare a function whose
result carries no gradient, and :func:`lookup` to find the rule of a primitive.
"""

from srcgrad.rules import registry
from srcgrad.rules.registry import adjoint, lookup, nondifferentiable

try:  # TEMPORARY: rules-more's modules land in parallel; the guard goes once they exist
    from srcgrad.rules import reductions, shape, linalg  # noqa: F401
except ImportError:  # pragma: no cover
    pass
from srcgrad.rules import binary, elementwise, nondiff  # noqa: F401
from srcgrad.rules import indexing  # noqa: F401  (owned by the engine)

__all__ = ["adjoint", "lookup", "nondifferentiable", "registry"]
